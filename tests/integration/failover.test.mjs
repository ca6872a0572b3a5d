// Mid-stream failover against real `sluice sim` upstreams: a stream that breaks after content was sent (reset,
// stall, insufficient_system_resource, malformed chunk) continues on another host through DeepSeek's chat prefix
// completion, and the openai SDK sees one coherent completion whose text is identical to an unbroken run.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startGateway, tempDir, curl, parseSse } from './lib/gateway.mjs';
import { startSim, simStats, writeScenario } from './lib/sim.mjs';

const cleanup = [];
after(async () => { for (const f of cleanup.reverse()) await f(); });

const base = { slots: 64, ttft: '5ms', itl: '2ms', output_tokens: 500 };

async function sim(name, faults = {}) {
  // Same seed everywhere: the same conversation gets the same text from every sim.
  const s = await startSim(['--seed', '11', '--scenario', writeScenario(tempDir(), name, base, faults)]);
  cleanup.push(() => s.stop());
  return s;
}

async function gateway(broken, healthy, failover = { mode: 'prefix' }) {
  const upstream = (port) => ({
    base_url: `http://127.0.0.1:${port}`,
    timeouts: { connect: '1s', first_token: '5s', idle: '700ms', total: '20s' },
  });
  const gw = await startGateway({
    config: {
      listen: '127.0.0.1:0', workers: 1, log_level: 'warn',
      upstreams: { broken: upstream(broken.port), healthy: upstream(healthy.port) },
      models: {
        'deepseek-chat': {
          balancer: 'round_robin',
          deployments: [{ upstream: 'broken' }, { upstream: 'healthy' }],
          ...(failover ? { failover } : {}),
        },
      },
    },
  });
  cleanup.push(() => gw.stop());
  return gw;
}

const MAX_TOKENS = 40;
const messages = (i) => [{ role: 'user', content: `Tell me a story number ${i}` }];

// The reference: the healthy sim's own answer for the same conversation, asked directly.
async function reference(sim, i) {
  const r = await fetch(`${sim.base}/chat/completions`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'deepseek-chat', max_tokens: MAX_TOKENS, messages: messages(i) }),
  });
  return (await r.json()).choices[0].message.content;
}

async function streamThroughSdk(gw, i) {
  const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'x', maxRetries: 0, timeout: 15000 });
  const stream = await client.chat.completions.create({
    model: 'deepseek-chat', stream: true, max_tokens: MAX_TOKENS, messages: messages(i),
    stream_options: { include_usage: true },
  });
  const chunks = [];
  for await (const c of stream) chunks.push(c);
  return chunks;
}

function assertCoherent(chunks, expected) {
  const roles = chunks.filter((c) => c.choices?.[0]?.delta?.role);
  assert.equal(roles.length, 1, 'one role chunk');
  const text = chunks.map((c) => c.choices?.[0]?.delta?.content ?? '').join('');
  assert.equal(text, expected, 'no duplicated or missing tokens');
  const finishes = chunks.map((c) => c.choices?.[0]?.finish_reason).filter(Boolean);
  assert.deepEqual(finishes, ['length'], 'one finish, from the leg that completed');
  const usages = chunks.filter((c) => c.usage);
  assert.equal(usages.length, 1, 'one final usage');
  assert.equal(usages[0].usage.completion_tokens, MAX_TOKENS);
  assert.equal(new Set(chunks.map((c) => c.id)).size, 1, 'one completion id');
}

for (const [fault, key] of [['reset', 'reset_mid_stream'], ['insufficient_system_resource', 'truncate'],
  ['stall', 'stall'], ['malformed chunk', 'malformed']]) {
  test(`a stream cut by ${fault} continues on another host; the SDK sees one completion`, { timeout: 60000 }, async () => {
    const broken = await sim(`broken-${key}`, { [key]: 1.0 });
    const healthy = await sim(`healthy-${key}`);
    const gw = await gateway(broken, healthy);
    // Round robin: requests 0 and 2 start on the broken host, 1 and 3 on the healthy one.
    for (let i = 0; i < 4; i++) {
      const chunks = await streamThroughSdk(gw, i);
      assertCoherent(chunks, await reference(healthy, i));
    }
    const bs = await simStats(broken);
    assert.equal(bs.requests, 2, 'the broken host got the first attempt of two requests');
    const resumed = gw.logs.filter((l) => l.attempts === 2);
    assert.equal(resumed.length, 2, 'two requests were resumed mid-stream');
    assert.ok(resumed.every((l) => l.status === 200 && l.upstream === 'healthy'));
  });
}

test('without failover a cut stream still ends with an honest error event and [DONE]', { timeout: 30000 }, async () => {
  const broken = await sim('broken-off', { reset_mid_stream: 1.0 });
  const healthy = await sim('healthy-off');
  const gw = await gateway(broken, healthy, null);
  const r = await curl(`${gw.url}/v1/chat/completions`, {
    body: JSON.stringify({ model: 'deepseek-chat', stream: true, max_tokens: MAX_TOKENS, messages: messages(0) }),
  });
  const { events } = parseSse(r.body);
  assert.equal(events.at(-1), '[DONE]');
  assert.ok(JSON.parse(events.at(-2)).error, 'an error event before [DONE]');
  assert.equal((await simStats(healthy)).requests, 0, 'no continuation was attempted');
});
