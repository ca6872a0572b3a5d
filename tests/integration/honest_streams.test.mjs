// Every answer ends honestly (#9): with the simulator's mid-stream faults, the official openai SDK either
// receives a complete answer or raises an APIError naming what happened, never a silently shorter answer.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startGateway, baseConfig } from './lib/gateway.mjs';
import { startSim } from './lib/sim.mjs';

const T = { timeout: 15_000 };
let sim;
let gw;
let client;

before(async () => {
  sim = await startSim(['--ttft', '10ms', '--itl', '5ms']);
  gw = await startGateway({
    config: baseConfig({
      upstreamUrl: `${sim.base}/v1`,
      timeouts: { first_token: '3s', idle: '600ms', total: '10s' },
    }),
  });
  client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0, timeout: 8000 });
});
after(async () => {
  await sim?.stop();
  await gw?.stop();
});

const messages = [{ role: 'user', content: 'Tell me a story' }];
const fault = (f) => ({ headers: { 'x-sim-fault': f } });

// Streams through the SDK; resolves with the text received and the error raised (or null).
async function streamWith(f) {
  const stream = await client.chat.completions.create({ model: 'deepseek-chat', messages, stream: true, max_tokens: 40 }, fault(f));
  let text = '';
  let finish = null;
  try {
    for await (const c of stream) {
      text += c.choices[0]?.delta?.content ?? '';
      finish = c.choices[0]?.finish_reason ?? finish;
    }
  } catch (err) {
    return { text, finish, err };
  }
  return { text, finish, err: null };
}

for (const [f, code] of [['reset-after=3', 'upstream_reset'], ['stall-after=3', 'upstream_idle_timeout'],
  ['malformed-after=3', 'upstream_protocol_error']]) {
  test(`stream with ${f}: the SDK raises ${code} after the partial text`, T, async () => {
    const r = await streamWith(f);
    assert.ok(r.err instanceof OpenAI.APIError, `expected an APIError, got ${r.err} (text ${JSON.stringify(r.text)})`);
    assert.equal(r.err.code, code);
    assert.ok(r.text.length > 0, 'the content before the fault was delivered');
    assert.equal(r.finish, null, 'no finish_reason: the answer is not presented as complete');
  });
}

test('stream cut by the provider (insufficient_system_resource) says so in finish_reason', T, async () => {
  const r = await streamWith('truncate-after=4');
  assert.equal(r.err, null);
  assert.equal(r.finish, 'insufficient_system_resource');
});

test('a complete stream ends with finish_reason stop or length and no error', T, async () => {
  const r = await streamWith('tokens=6');
  assert.equal(r.err, null);
  assert.ok(['stop', 'length'].includes(r.finish), r.finish);
});

for (const [f, status, code] of [['reset-after=3', 502, 'upstream_reset'], ['stall-after=3', 504, 'upstream_idle_timeout'],
  ['malformed-after=3', 502, 'upstream_protocol_error']]) {
  test(`non-stream with ${f}: ${status} ${code}, never a 200`, T, async () => {
    await assert.rejects(
      client.chat.completions.create({ model: 'deepseek-chat', messages, max_tokens: 40 }, fault(f)),
      (err) => {
        assert.ok(err instanceof OpenAI.APIError, `got ${err?.constructor?.name}: ${err?.message}`);
        assert.equal(err.status, status);
        assert.equal(err.code, code);
        return true;
      });
  });
}

test('non-stream cut by the provider reports insufficient_system_resource', T, async () => {
  const r = await client.chat.completions.create({ model: 'deepseek-chat', messages, max_tokens: 40 }, fault('truncate-after=4'));
  assert.equal(r.choices[0].finish_reason, 'insufficient_system_resource');
});
