// Request validation (#29 findings 7 and 8): chat, completions and embeddings bodies are checked the way the
// OpenAI API checks them (required members, types, ranges) and refused with a 400 naming the parameter,
// before admission spends anything and before any upstream call. Numbers outside what a 64-bit float or
// integer holds say so instead of "not valid JSON". Before: each request below reached the upstream (200),
// and 1e400 / 2^64 got "request body is not valid JSON".
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startFakeUpstream } from './lib/fake_upstream.mjs';
import { startGateway, baseConfig, curl } from './lib/gateway.mjs';

const KEY = 'ck-validation-0123456789';
const T = { timeout: 30_000 };
const MSGS = [{ role: 'user', content: 'hi' }];

describe('request validation', () => {
  let up;
  let gw;
  before(async () => {
    up = await startFakeUpstream();
    // Two requests a minute: a 400 that spent the budget would leave the valid requests below a 429.
    const cfg = baseConfig({ upstreamUrl: up.url, keys: [{ name: 'v', secret_env: 'KEY', limits: { rpm: 2, window: '1m' } }] });
    gw = await startGateway({ config: cfg, env: { FAKE_PROVIDER_KEY: 'sk-validation', KEY } });
  });
  after(async () => {
    await up?.close();
    await gw?.stop();
  });

  const send = (path, body) => curl(`${gw.url}${path}`, {
    body: typeof body === 'string' ? body : JSON.stringify(body),
    headers: { Authorization: `Bearer ${KEY}` },
  });

  function assert400(r, param, code, message) {
    assert.equal(r.status, 400, r.body);
    const e = JSON.parse(r.body).error;
    assert.equal(e.type, 'invalid_request_error');
    assert.equal(e.param, param, r.body);
    if (code) assert.equal(e.code, code, r.body);
    if (message) assert.match(e.message, message);
  }

  test('chat: messages are required, a non-empty array of objects with a role and content', T, async () => {
    const before = up.requests.length;
    const cases = [
      [{ model: 'deepseek-chat' }, 'messages', 'missing_required_parameter', /Missing required parameter: 'messages'/],
      [{ model: 'deepseek-chat', messages: null }, 'messages', 'invalid_type', /got null/],
      [{ model: 'deepseek-chat', messages: 1 }, 'messages', 'invalid_type', /expected an array of objects, but got an integer/],
      [{ model: 'deepseek-chat', messages: {} }, 'messages', 'invalid_type', /got an object/],
      [{ model: 'deepseek-chat', messages: 'x' }, 'messages', 'invalid_type', /got a string/],
      [{ model: 'deepseek-chat', messages: [] }, 'messages', 'empty_array', /empty array/],
      [{ model: 'deepseek-chat', messages: [{ role: 'wizard', content: 'x' }] }, 'messages[0].role', 'invalid_value', /'wizard'/],
      [{ model: 'deepseek-chat', messages: [{ role: 'user' }] }, 'messages[0].content', 'missing_required_parameter'],
      [{ model: 'deepseek-chat', messages: [{ role: 'user', content: 5 }] }, 'messages[0].content', 'invalid_type'],
      [{ model: 'deepseek-chat', messages: [...MSGS, { role: 'tool', content: 'r' }] }, 'messages[1].tool_call_id', 'missing_required_parameter'],
    ];
    for (const [body, param, code, message] of cases) assert400(await send('/v1/chat/completions', body), param, code, message);
    assert.equal(up.requests.length, before, 'no invalid request reached the upstream');
  });

  test('chat: sampling parameters by type and range', T, async () => {
    const before = up.requests.length;
    const chat = (extra) => ({ model: 'deepseek-chat', messages: MSGS, ...extra });
    const cases = [
      [{ temperature: '5' }, 'temperature', 'invalid_type', /expected a decimal, but got a string/],
      [{ temperature: -1 }, 'temperature', 'decimal_below_min_value', /Expected a value >= 0, but got -1/],
      [{ temperature: 2.5 }, 'temperature', 'decimal_above_max_value', /Expected a value <= 2/],
      [{ top_p: 1.1 }, 'top_p', 'decimal_above_max_value'],
      [{ n: 0 }, 'n', 'integer_below_min_value'],
      [{ max_tokens: 0 }, 'max_tokens', 'integer_below_min_value'],
      [{ max_tokens: 10.5 }, 'max_tokens', 'invalid_type'],
      [{ presence_penalty: 3 }, 'presence_penalty', 'decimal_above_max_value'],
      [{ frequency_penalty: -2.5 }, 'frequency_penalty', 'decimal_below_min_value'],
      [{ stop: Array.from({ length: 17 }, (_, i) => String(i)) }, 'stop', 'array_above_max_length'],
      [{ stop: 7 }, 'stop', 'invalid_type'],
      [{ stream: 'yes' }, 'stream', 'invalid_type'],
      [{ stream: true, stream_options: 'all' }, 'stream_options', 'invalid_type'],
      [{ tools: [{ type: 'function' }] }, 'tools[0].function', 'missing_required_parameter'],
      [{ tool_choice: 'sometimes' }, 'tool_choice', 'invalid_value'],
      [{ response_format: { type: 'json_schema' } }, 'response_format.json_schema', 'missing_required_parameter'],
      [{ logprobs: 'yes' }, 'logprobs', 'invalid_type'],
      [{ top_logprobs: 50 }, 'top_logprobs', 'integer_above_max_value'],
    ];
    for (const [extra, param, code, message] of cases) assert400(await send('/v1/chat/completions', chat(extra)), param, code, message);
    assert.equal(up.requests.length, before);
  });

  test('numbers out of range name the parameter instead of "not valid JSON" (finding 8)', T, async () => {
    const body = (v) => `{"model":"deepseek-chat","messages":[{"role":"user","content":"hi"}],${v}}`;
    const r1 = await send('/v1/chat/completions', body('"temperature":1e400'));
    assert400(r1, 'temperature', 'invalid_value', /the number 1e400 is out of range/);
    const r2 = await send('/v1/chat/completions', body('"max_tokens":18446744073709551616'));
    assert400(r2, 'max_tokens', 'invalid_value', /the number 18446744073709551616 is out of range/);
    assert.doesNotMatch(r1.body + r2.body, /not valid JSON/);
    const bad = await send('/v1/chat/completions', body('"max_tokens":01'));
    assert400(bad, null, 'invalid_json', /not valid JSON/);  // malformed numbers are still JSON errors
  });

  test('completions need a prompt; embeddings an input of the right shape', T, async () => {
    const before = up.requests.length;
    assert400(await send('/v1/completions', { model: 'deepseek-chat' }), 'prompt', 'missing_required_parameter');
    assert400(await send('/v1/completions', { model: 'deepseek-chat', prompt: { text: 'x' } }), 'prompt', 'invalid_type');
    assert400(await send('/v1/completions', { model: 'deepseek-chat', prompt: 'x', best_of: 0 }), 'best_of', 'integer_below_min_value');
    assert400(await send('/v1/embeddings', { model: 'deepseek-chat' }), 'input', 'missing_required_parameter');
    assert400(await send('/v1/embeddings', { model: 'deepseek-chat', input: '' }), 'input', 'string_below_min_length');
    assert400(await send('/v1/embeddings', { model: 'deepseek-chat', input: [] }), 'input', 'empty_array');
    assert400(await send('/v1/embeddings', { model: 'deepseek-chat', input: 'x', encoding_format: 'int4' }), 'encoding_format', 'invalid_value');
    assert.equal(up.requests.length, before);
  });

  test('none of the refused requests spent admission budget; valid ones and extensions pass', T, async () => {
    // rpm is 2: both valid requests below fit only because none of the ~40 refused ones above was counted.
    const ok = await send('/v1/chat/completions', {
      model: 'deepseek-chat', messages: MSGS, temperature: 0.2, top_p: 1, n: 1, max_tokens: 5, stop: ['x'],
      tools: [{ type: 'function', function: { name: 'f', parameters: {} } }], tool_choice: 'auto',
      response_format: { type: 'json_object' }, temperature_extension: 'kept', thinking: { type: 'enabled' }, top_k: 3,
    });
    assert.equal(ok.status, 200, ok.body);
    assert.equal(up.requests.at(-1).parsed.thinking.type, 'enabled', 'unknown members reach the upstream unchanged');
    const emb = await send('/v1/embeddings', { model: 'deepseek-chat', input: ['a', 'b'], dimensions: 8 });
    assert.equal(emb.status, 200, emb.body);
    const third = await send('/v1/chat/completions', { model: 'deepseek-chat', messages: MSGS });
    assert.equal(third.status, 429, 'the limit does apply to valid requests');
  });
});
