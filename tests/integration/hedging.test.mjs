// Hedging against real `sluice sim` upstreams: a request whose first token is late gets a second attempt on
// another host; the first to produce content answers, the other attempt is cancelled (the sim sees its client
// leave); hedges are admitted by the retry throttle like retries; the learned delay follows the group's first-token latency.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, curl, tempDir, parseSse, waitFor } from './lib/gateway.mjs';
import { startSim, simStats, writeScenario } from './lib/sim.mjs';

const cleanup = [];
after(async () => { for (const f of cleanup.reverse()) await f(); });

async function sim(name, ttft) {
  const s = await startSim(['--seed', '7', '--scenario', writeScenario(tempDir(), name, { slots: 64, ttft, itl: '1ms' })]);
  cleanup.push(() => s.stop());
  return s;
}

async function gateway(upstreams, model) {
  const gw = await startGateway({
    config: { listen: '127.0.0.1:0', workers: 1, log_level: 'warn', upstreams, models: { 'deepseek-chat': model } },
  });
  cleanup.push(() => gw.stop());
  return gw;
}

const upstream = (port) => ({
  base_url: `http://127.0.0.1:${port}`,
  timeouts: { connect: '1s', first_token: '20s', idle: '10s', total: '30s' },
});

const chat = (gw, stream) => curl(`${gw.url}/v1/chat/completions`, {
  timeoutMs: 20000,
  body: JSON.stringify({ model: 'deepseek-chat', stream, max_tokens: 8, messages: [{ role: 'user', content: 'hedge me' }] }),
});

test('a late first token is hedged: the faster host answers, the other attempt is cancelled', { timeout: 60000 }, async () => {
  const a = await sim('a', '600ms');  // answers, but after the hedge delay
  const b = await sim('b', '8s');     // would answer far too late
  const gw = await gateway({ a: upstream(a.port), b: upstream(b.port) }, {
    balancer: 'round_robin',
    deployments: [{ upstream: 'a' }, { upstream: 'b' }],
    hedge: { delay: '150ms' },
  });
  const n = 6;
  for (let i = 0; i < n; i++) {
    const stream = i % 2 === 0;
    const started = Date.now();
    const r = await chat(gw, stream);
    assert.equal(r.status, 200, r.body);
    assert.equal(r.headers['x-sluice-upstream'], 'a', 'the host that produced content first answers');
    assert.equal(r.headers['x-sluice-attempts'], '2');
    assert.ok(Date.now() - started < 5000, 'never waited for the slow host');
    if (stream) {
      const { events } = parseSse(r.body);
      const data = events.filter((e) => e !== '[DONE]').map((e) => JSON.parse(e));
      assert.equal(events.filter((e) => e === '[DONE]').length, 1);
      assert.equal(data.filter((d) => d.choices?.[0]?.delta?.role).length, 1, 'one stream, not two interleaved');
      assert.equal(new Set(data.map((d) => d.id)).size, 1, 'every chunk from the same upstream completion');
    } else {
      assert.equal(r.json().choices.length, 1);
    }
  }
  // Every request had one attempt on b (as primary or as hedge); each was cancelled: b saw its client leave.
  const deadline = Date.now() + 5000;
  let bs;
  do { bs = await simStats(b); } while (bs.client_disconnects < n && Date.now() < deadline);
  assert.equal(bs.requests, n);
  assert.equal(bs.client_disconnects, n, 'the losing attempt was cancelled, not left running');
  const as = await simStats(a);
  assert.equal(as.requests, n);
  assert.equal(as.client_disconnects, 0);
  await waitFor(() => gw.logs.length >= n, 5000, 'access logs');
  assert.ok(gw.logs.every((l) => l.status === 200 && l.attempts === 2 && l.upstream === 'a'));
});

test('no hedges while the retry throttle refuses retries (after an outage of the group)', { timeout: 60000 }, async () => {
  const a = await sim('a2', '10ms');
  const b = await sim('b2', '1500ms');
  const up = (port) => ({ ...upstream(port), outlier: { consecutive_failures: 1000 } });
  const gw = await gateway({ a: up(a.port), b: up(b.port) }, {
    balancer: 'round_robin',
    deployments: [{ upstream: 'a' }, { upstream: 'b' }],
    hedge: { delay: '100ms' },
    retry: { max_attempts: 1, throttle_k: 1 },
  });
  // 800 failed attempts in the window: p = max(0, (R − A)/(R + 1)) ≥ 0.99 for what follows.
  const body = JSON.stringify({ model: 'deepseek-chat', max_tokens: 8, messages: [{ role: 'user', content: 'x' }] });
  for (let i = 0; i < 800; i++) {
    const r = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST', body, headers: { 'content-type': 'application/json', 'x-sim-fault': 'status=503' } });
    assert.equal(r.status, 503);
    await r.arrayBuffer();
  }
  const metrics = (await curl(`${gw.url}/metrics`)).body;
  const p = Number(metrics.match(/sluice_retry_reject_probability\{group="deepseek-chat"\} ([0-9.e-]+)/)[1]);
  assert.ok(p > 0.99, `reject probability ${p}`);
  const n = 4;
  const upstreams = [];
  let hedged = 0;
  for (let i = 0; i < n; i++) {
    const r = await chat(gw, true);
    assert.equal(r.status, 200, r.body);
    hedged += r.headers['x-sluice-attempts'] === '1' ? 0 : 1;
    upstreams.push(r.headers['x-sluice-upstream']);
  }
  // Two requests start on the slow host; each hedge goes with probability 1 − p ≤ 1 %.
  assert.ok(hedged <= 1, `${hedged} hedges went although the throttle refuses 99 % of them`);
  if (hedged === 0) assert.deepEqual(upstreams.sort(), ['a', 'a', 'b', 'b'], 'slow requests were left on the slow host');
  const m2 = (await curl(`${gw.url}/metrics`)).body;
  assert.match(m2, /sluice_retries_throttled_total\{group="deepseek-chat"\} [1-9]/);
});

test('the learned delay (p95 of first-token time) replaces the cold max_delay', { timeout: 60000 }, async () => {
  const a = await sim('a3', '50ms');
  const b = await sim('b3', '6s');
  const gw = await gateway({ a: upstream(a.port), b: upstream(b.port) }, {
    balancer: 'round_robin',
    deployments: [{ upstream: 'a' }, { upstream: 'b' }],
    hedge: { delay: 'auto', min_samples: 3, min_delay: '20ms', max_delay: '1500ms' },
  });
  const slowFirst = [];  // durations of requests whose first attempt went to b
  for (let i = 0; i < 12; i++) {
    const started = Date.now();
    const r = await chat(gw, true);
    assert.equal(r.status, 200, r.body);
    assert.equal(r.headers['x-sluice-upstream'], 'a');
    if (i % 2 === 1) slowFirst.push(Date.now() - started);
  }
  // Cold: the first b-first request waited max_delay before its hedge. Warm: p95 of a's ~50 ms first tokens.
  assert.ok(slowFirst[0] >= 1400, `cold hedge after max_delay: ${slowFirst}`);
  const warm = slowFirst.slice(3);
  assert.ok(warm.every((d) => d < 1000), `warm hedges follow the learned delay: ${slowFirst}`);
});
