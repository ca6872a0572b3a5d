// The official `openai` npm SDK (v4) against the gateway: what real clients will do. Non-stream and stream
// chat completions, include_usage, embeddings, models.list, errors surfacing as the right APIError subclass,
// keep-alive-delayed answers, a mid-stream failure, and breaking out of a stream cancelling the upstream.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startFakeUpstream } from './lib/fake_upstream.mjs';
import { startGateway, baseConfig, sleep, findLeaks } from './lib/gateway.mjs';

const PROVIDER_KEY = 'sk-provider-SDKSECRET-424242';
const CLIENT_KEY = 'ck-sdk-client-1';
const T = { timeout: 10_000 };

describe('gateway with the official openai SDK', () => {
  let up;
  let gw;
  let client;

  before(async () => {
    up = await startFakeUpstream();
    gw = await startGateway({
      config: baseConfig({
        upstreamUrl: up.url,
        models: {
          'deepseek-chat': { upstream: 'fake' },
          'deepseek-reasoner': { upstream: 'fake' },
          'my-chat': { upstream: 'fake', model: 'deepseek-chat' },
        },
        keys: [{ name: 'sdk', secret_env: 'SDK_CLIENT_KEY' }],
        server: { max_body_bytes: 65536 },
        timeouts: { first_token: '1500ms', idle: '1500ms', total: '20s' },
      }),
      env: { FAKE_PROVIDER_KEY: PROVIDER_KEY, SDK_CLIENT_KEY: CLIENT_KEY },
    });
    client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: CLIENT_KEY, maxRetries: 0, timeout: 8000 });
  });

  after(async () => {
    await up?.close();
    await gw?.kill(); // last: it throws if the gateway crashed during the tests
  });

  const messages = [{ role: 'user', content: 'Hello?' }];
  const opts = (headers) => ({ headers });

  test('chat.completions.create (non-stream)', T, async () => {
    const r = await client.chat.completions.create({ model: 'deepseek-chat', messages });
    assert.equal(r.object, 'chat.completion');
    assert.equal(r.choices[0].message.content, 'Hello from upstream');
    assert.equal(r.choices[0].finish_reason, 'stop');
    assert.deepEqual(r.usage, { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 });
    assert.equal(up.requests.at(-1).headers.authorization, `Bearer ${PROVIDER_KEY}`);
  });

  test('withResponse exposes the gateway request id', T, async () => {
    const { data, response } = await client.chat.completions
      .create({ model: 'deepseek-chat', messages }, opts({ 'x-request-id': 'sdk-rid-1' }))
      .withResponse();
    assert.equal(data.choices[0].message.content, 'Hello from upstream');
    assert.equal(response.headers.get('x-request-id'), 'sdk-rid-1');
    assert.equal((await gw.logFor('sdk-rid-1')).key, 'sdk');
  });

  test('chat.completions.create stream: for await over the chunks', T, async () => {
    const stream = await client.chat.completions.create({ model: 'my-chat', messages, stream: true }, opts({ 'x-test-chunks': '5' }));
    const chunks = [];
    for await (const c of stream) chunks.push(c);
    assert.equal(chunks.length, 6);
    assert.equal(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join(''), 'tok0 tok1 tok2 tok3 tok4 ');
    assert.equal(chunks.at(-1).choices[0].finish_reason, 'stop');
    assert.equal(up.requests.at(-1).parsed.model, 'deepseek-chat', 'the public name was rewritten');
  });

  test('stream with stream_options.include_usage delivers the usage chunk', T, async () => {
    const stream = await client.chat.completions.create(
      { model: 'deepseek-chat', messages, stream: true, stream_options: { include_usage: true } }, opts({ 'x-test-chunks': '4' }));
    let usage = null;
    let text = '';
    for await (const c of stream) {
      if (c.usage) usage = c.usage;
      text += c.choices[0]?.delta?.content ?? '';
    }
    assert.equal(text, 'tok0 tok1 tok2 tok3 ');
    assert.deepEqual(usage, { prompt_tokens: 5, completion_tokens: 4, total_tokens: 9 });
  });

  test('embeddings.create and models.list', T, async () => {
    // The SDK asks for base64 unless told otherwise; the fake upstream only speaks float arrays.
    const e = await client.embeddings.create({ model: 'deepseek-chat', input: 'hello', encoding_format: 'float' });
    assert.equal(e.data.length, 1);
    assert.equal(e.data[0].embedding.length, 2);
    assert.ok(Math.abs(e.data[0].embedding[0] - 0.1) < 1e-6);
    const ids = [];
    for await (const m of client.models.list()) ids.push(m.id);
    assert.deepEqual(ids, ['deepseek-chat', 'deepseek-reasoner', 'my-chat']);
  });

  test('errors surface as the right APIError subclasses with status and code', T, async () => {
    const expectErr = async (promise, Cls, status, code) => {
      await assert.rejects(promise, (err) => {
        assert.ok(err instanceof Cls, `expected ${Cls.name}, got ${err?.constructor?.name}: ${err?.message}`);
        assert.equal(err.status, status);
        if (code !== undefined) assert.equal(err.code, code);
        assert.ok(!String(err.message).includes(PROVIDER_KEY));
        return true;
      });
    };
    await expectErr(client.chat.completions.create({ model: 'nope-model', messages }), OpenAI.NotFoundError, 404, 'model_not_found');
    const bad = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'ck-wrong', maxRetries: 0, timeout: 5000 });
    await expectErr(bad.chat.completions.create({ model: 'deepseek-chat', messages }), OpenAI.AuthenticationError, 401, 'invalid_api_key');
    await expectErr(client.chat.completions.create({ model: 'deepseek-chat', messages },
      opts({ 'x-test-mode': 'status', 'x-test-status': '503', 'x-test-retry-after': '1' })), OpenAI.InternalServerError, 503);
    await expectErr(client.chat.completions.create({ model: 'deepseek-chat', messages, stream: true },
      opts({ 'x-test-mode': 'status', 'x-test-status': '429' })), OpenAI.RateLimitError, 429);
    await expectErr(client.chat.completions.create({ model: 'deepseek-chat', messages },
      opts({ 'x-test-mode': 'status', 'x-test-status': '401', 'x-test-echo-auth': '1' })), OpenAI.InternalServerError, 502, 'upstream_auth_rejected');
    await expectErr(client.chat.completions.create({ model: 'deepseek-chat', messages },
      opts({ 'x-test-mode': 'blank-only', 'x-test-keepalives': '3' })), OpenAI.InternalServerError, 502, 'upstream_empty_response');
    await expectErr(client.chat.completions.create({ model: 'deepseek-chat', messages: [{ role: 'user', content: 'z'.repeat(70000) }] }),
      OpenAI.APIError, 413, 'request_too_large');
    await expectErr(client.chat.completions.create({ model: 'deepseek-chat', messages },
      opts({ 'x-test-keepalives': '100', 'x-test-gap-ms': '50' })), OpenAI.InternalServerError, 504, 'upstream_first_token_timeout');
  });

  test('keep-alive-delayed answers reach the SDK as clean JSON and SSE', T, async () => {
    const r = await client.chat.completions.create({ model: 'deepseek-chat', messages },
      opts({ 'x-test-keepalives': '8', 'x-test-gap-ms': '50' }));
    assert.equal(r.choices[0].message.content, 'Hello from upstream');
    const stream = await client.chat.completions.create({ model: 'deepseek-chat', messages, stream: true },
      opts({ 'x-test-keepalives': '8', 'x-test-gap-ms': '50', 'x-test-mode': 'interleave' }));
    let text = '';
    let n = 0;
    for await (const c of stream) { text += c.choices[0]?.delta?.content ?? ''; n++; }
    assert.equal(text, 'tok0 tok1 tok2 tok3 ');
    assert.equal(n, 5);
  });

  test('a stream that breaks mid-way throws an APIError carrying the gateway error code', T, async () => {
    const stream = await client.chat.completions.create({ model: 'deepseek-chat', messages, stream: true },
      opts({ 'x-test-mode': 'reset-mid', 'x-test-chunks': '5' }));
    let text = '';
    await assert.rejects(async () => {
      for await (const c of stream) text += c.choices[0]?.delta?.content ?? '';
    }, (err) => {
      assert.ok(err instanceof OpenAI.APIError, `got ${err?.constructor?.name}: ${err?.message}`);
      assert.equal(err.code, 'upstream_reset');
      return true;
    });
    assert.equal(text, 'tok0 tok1 ');
  });

  test('breaking out of a stream early cancels the upstream request', T, async () => {
    const stream = await client.chat.completions.create({ model: 'deepseek-chat', messages, stream: true },
      opts({ 'x-request-id': 'sdk-break', 'x-test-chunks': '400', 'x-test-gap-ms': '20' }));
    let n = 0;
    for await (const c of stream) {
      void c;
      if (++n === 3) break;
    }
    const leftAt = Date.now();
    let rec;
    while (Date.now() - leftAt < 1500) {
      rec = up.requests.find((q) => q.headers['x-request-id'] === 'sdk-break');
      if (rec?.closedEarly) break;
      await sleep(10);
    }
    assert.ok(rec?.closedEarly, 'the upstream request kept running after the SDK stopped reading');
    assert.ok(rec.abortedAt - leftAt < 1000, `cancelled ${rec.abortedAt - leftAt} ms later`);
  });

  test('nothing the SDK saw or the gateway logged contains the provider key', T, async () => {
    assert.deepEqual(findLeaks(PROVIDER_KEY, gw), []);
    assert.equal(gw.exit, null);
  });
});
