// `sluice sim`: endpoints, response shapes, determinism, streaming, prefix cache, metrics, shutdown.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startSim, curl, simStats, chatBody } from './lib/sim.mjs';

const T = { timeout: 15000 };
let sim;
let client;

before(async () => {
  sim = await startSim(['--seed', '7', '--ttft', '0', '--itl', '0', '--output-tokens', '12']);
  client = new OpenAI({ baseURL: sim.base, apiKey: 'sk-test', maxRetries: 0, timeout: 10000 });
});
after(async () => { await sim?.stop(); });

test('GET /models and /v1/models list DeepSeek models', T, async () => {
  for (const p of ['/models', '/v1/models']) {
    const r = await curl([`${sim.base}${p}`]);
    const body = JSON.parse(r.stdout);
    assert.equal(body.object, 'list');
    assert.deepEqual(body.data.map((m) => m.id), ['deepseek-chat', 'deepseek-reasoner']);
    assert.equal(body.data[0].owned_by, 'deepseek');
  }
  const models = await client.models.list();
  assert.equal(models.data.length, 2);
});

test('GET /user/balance', T, async () => {
  const body = JSON.parse((await curl([`${sim.base}/user/balance`])).stdout);
  assert.equal(body.is_available, true);
  assert.equal(body.balance_infos[0].currency, 'CNY');
});

test('non-stream chat completion has DeepSeek shape (SDK)', T, async () => {
  const r = await client.chat.completions.create({ model: 'deepseek-chat', messages: [{ role: 'user', content: 'Hi' }] });
  assert.equal(r.object, 'chat.completion');
  assert.match(r.id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.ok(r.created > 1600000000);
  assert.match(r.system_fingerprint, /^fp_/);
  assert.equal(r.choices[0].finish_reason, 'stop');
  assert.equal(r.choices[0].message.role, 'assistant');
  assert.equal(r.choices[0].message.content.split(' ').length, 12);
  const u = r.usage;
  assert.equal(u.completion_tokens, 12);
  assert.equal(u.prompt_tokens, Math.ceil(('user:' + 'Hi').length * 0.3));
  assert.equal(u.total_tokens, u.prompt_tokens + u.completion_tokens);
  assert.equal(u.prompt_cache_hit_tokens + u.prompt_cache_miss_tokens, u.prompt_tokens);
  assert.equal(u.prompt_tokens_details.cached_tokens, u.prompt_cache_hit_tokens);
});

test('both /chat/completions and /v1/chat/completions answer (curl)', T, async () => {
  for (const p of ['/chat/completions', '/v1/chat/completions']) {
    const r = await curl(['-H', 'content-type: application/json', '-d', chatBody(), `${sim.base}${p}`]);
    assert.equal(JSON.parse(r.stdout).object, 'chat.completion');
  }
});

test('max_tokens cuts with finish_reason length', T, async () => {
  const r = await client.chat.completions.create({ model: 'deepseek-chat', max_tokens: 5, messages: [{ role: 'user', content: 'Hi' }] });
  assert.equal(r.choices[0].finish_reason, 'length');
  assert.equal(r.usage.completion_tokens, 5);
});

test('same seed and prompt give the same text; another seed differs', T, async () => {
  const ask = async (s) => (await new OpenAI({ baseURL: s.base, apiKey: 'k', maxRetries: 0 }).chat.completions.create(
    { model: 'deepseek-chat', messages: [{ role: 'user', content: 'determinism' }] })).choices[0].message.content;
  const a = await ask(sim);
  assert.equal(await ask(sim), a);
  const other = await startSim(['--seed', '8', '--ttft', '0', '--itl', '0', '--output-tokens', '12']);
  const same = await startSim(['--seed', '7', '--ttft', '0', '--itl', '0', '--output-tokens', '12']);
  try {
    assert.notEqual(other.port, sim.port);  // several sims side by side
    assert.notEqual(await ask(other), a);
    assert.equal(await ask(same), a);
  } finally {
    await other.stop();
    await same.stop();
  }
});

test('deepseek-reasoner returns reasoning_content and reasoning_tokens', T, async () => {
  const r = await client.chat.completions.create({ model: 'deepseek-reasoner', messages: [{ role: 'user', content: 'Why?' }] });
  const m = r.choices[0].message;
  assert.ok(m.reasoning_content.length > 0);
  assert.ok(m.content.length > 0);
  assert.equal(r.usage.completion_tokens_details.reasoning_tokens, 6);
  const s = await client.chat.completions.create({ model: 'deepseek-reasoner', stream: true, messages: [{ role: 'user', content: 'Why?' }] });
  let reasoning = '';
  let content = '';
  for await (const c of s) {
    reasoning += c.choices[0]?.delta?.reasoning_content ?? '';
    content += c.choices[0]?.delta?.content ?? '';
  }
  assert.equal(reasoning, m.reasoning_content);
  assert.equal(content, m.content);
});

test('streaming with include_usage: usage chunk with empty choices, then [DONE]', T, async () => {
  const s = await client.chat.completions.create({ model: 'deepseek-chat', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'Hi' }] });
  const chunks = [];
  for await (const c of s) chunks.push(c);
  assert.equal(chunks[0].choices[0].delta.role, 'assistant');
  assert.equal(chunks.at(-2).choices[0].finish_reason, 'stop');
  assert.deepEqual(chunks.at(-1).choices, []);
  assert.equal(chunks.at(-1).usage.completion_tokens, 12);
  assert.ok(chunks.every((c) => c.object === 'chat.completion.chunk' && c.id === chunks[0].id));
  const raw = await curl(['-N', '-d', chatBody({ stream: true }), `${sim.base}/chat/completions`]);
  assert.match(raw.stdout, /"finish_reason":"stop"}\],"usage":\{"prompt_tokens"/);  // usage rides on the last chunk
  assert.ok(raw.stdout.endsWith('data: [DONE]\n\n'));
});

test('prefix cache hits in 64-token units', T, async () => {
  const long = 'The quick brown fox jumps over the lazy dog. '.repeat(40);
  const ask = (tail) => client.chat.completions.create({ model: 'deepseek-chat', messages: [{ role: 'system', content: long }, { role: 'user', content: tail }] });
  const first = await ask('one');
  assert.equal(first.usage.prompt_cache_hit_tokens, 0);
  const second = await ask('two');
  assert.ok(second.usage.prompt_cache_hit_tokens > 0);
  assert.equal(second.usage.prompt_cache_hit_tokens % 64, 0);
  assert.equal(second.usage.prompt_cache_hit_tokens + second.usage.prompt_cache_miss_tokens, second.usage.prompt_tokens);
});

test('completions and embeddings endpoints', T, async () => {
  const c = await client.completions.create({ model: 'deepseek-chat', prompt: 'def f(', max_tokens: 3 });
  assert.equal(c.object, 'text_completion');
  assert.equal(c.choices[0].finish_reason, 'length');
  const e1 = await client.embeddings.create({ model: 'deepseek-chat', input: ['a', 'b'] });
  const e2 = await client.embeddings.create({ model: 'deepseek-chat', input: 'a' });
  assert.equal(e1.data.length, 2);
  assert.equal(e1.data[0].embedding.length, 256);
  assert.deepEqual(e1.data[0].embedding.map((x) => x.toFixed(4)), e2.data[0].embedding.map((x) => x.toFixed(4)));
});

test('bad JSON, missing fields and unknown models are 400 OpenAI errors', T, async () => {
  for (const body of ['{"model":', '[]', '{"messages":[{"role":"user","content":"x"}]}', '{"model":"deepseek-chat","messages":[]}',
    '{"model":"gpt-9","messages":[{"role":"user","content":"x"}]}', '{"model":"deepseek-chat","max_tokens":0,"messages":[{"role":"user","content":"x"}]}']) {
    const r = await curl(['-w', '\n%{http_code}', '-d', body, `${sim.base}/chat/completions`]);
    const [json, code] = r.stdout.split('\n');
    assert.equal(code, '400', body);
    const err = JSON.parse(json).error;
    assert.equal(err.type, 'invalid_request_error');
    assert.ok(err.message.length > 0);
  }
  await assert.rejects(client.chat.completions.create({ model: 'nope', messages: [{ role: 'user', content: 'x' }] }), (e) => e.status === 400);
});

test('/metrics is valid Prometheus text with vLLM gauges; /sim/stats mirrors counters', T, async () => {
  const r = await fetch(`${sim.base}/metrics`);
  assert.match(r.headers.get('content-type'), /^text\/plain/);
  const text = await r.text();
  for (const line of text.trimEnd().split('\n')) {
    assert.match(line, /^(# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .+|[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_]+="[^"]*",?)*\})? -?[0-9.e+]+)$/, line);
  }
  for (const name of ['vllm:num_requests_running', 'vllm:num_requests_waiting', 'vllm:kv_cache_usage_perc']) {
    assert.match(text, new RegExp(`^${name}\\{model_name="deepseek-chat"\\} `, 'm'));
  }
  assert.match(text, /^vllm:request_success_total\{finished_reason="stop",model_name="deepseek-chat"\} [1-9]/m);
  assert.match(text, /^sim_client_disconnects_total \d+$/m);
  assert.match(text, /^sim_streams_cancelled_total \d+$/m);
  const stats = await simStats(sim);
  assert.ok(stats.requests > 0);
  assert.equal(typeof stats.client_disconnects, 'number');
  assert.equal(typeof stats.streams_cancelled, 'number');
});

test('SIGTERM exits 0', T, async () => {
  const s = await startSim([]);
  const { code } = await s.stop('SIGTERM');
  assert.equal(code, 0);
});
