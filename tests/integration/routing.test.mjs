// Resilience through sluice against real `sluice sim` upstreams: retries on other hosts, outlier ejection of a
// dead host, fallbacks between model groups, no retries of client errors, and the retry budget in an outage.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { startGateway, curl, tempDir } from './lib/gateway.mjs';
import { startSim, simStats } from './lib/sim.mjs';
import { scenarioFile, startDeadHost } from './lib/hosts.mjs';

const cleanup = [];
after(async () => { for (const f of cleanup.reverse()) await f(); });

const scenario = scenarioFile;

async function sim(args) {
  const s = await startSim(['--seed', '7', ...args]);
  cleanup.push(() => s.stop());
  return s;
}

// A host that accepts TCP connections and drops them at once; counts how often the gateway tried it.
async function deadHost() {
  const h = await startDeadHost();
  cleanup.push(h.close);
  return h;
}

const chat = (gw, model = 'deepseek-chat', headers = {}) => curl(`${gw.url}/v1/chat/completions`, {
  headers,
  body: JSON.stringify({ model, max_tokens: 4, messages: [{ role: 'user', content: 'hello' }] }),
});

async function gateway(upstreams, models) {
  const gw = await startGateway({ config: { listen: '127.0.0.1:0', workers: 1, log_level: 'warn', upstreams, models } });
  cleanup.push(() => gw.stop());
  return gw;
}

const upstream = (port, extra = {}) => ({
  base_url: `http://127.0.0.1:${port}`,
  timeouts: { connect: '1s', first_token: '5s', idle: '5s', total: '10s' },
  ...extra,
});

test('a dead host and a 30 % 503 host: every request succeeds, the dead host is ejected', { timeout: 120000 }, async () => {
  const healthy = await sim(['--scenario', scenario('healthy', { slots: 256, ttft: '1ms', itl: '0ms' })]);
  const flaky = await sim(['--scenario', scenario('flaky503', { slots: 256, ttft: '1ms', itl: '0ms', errors: '{503: 0.3}' })]);
  const dead = await deadHost();
  const gw = await gateway({
    healthy: upstream(healthy.port),
    flaky: upstream(flaky.port),
    dead: upstream(dead.port, { outlier: { consecutive_failures: 3, base_ejection: '60s' } }),
  }, {
    'deepseek-chat': {
      balancer: 'round_robin',
      deployments: [{ upstream: 'healthy' }, { upstream: 'flaky' }, { upstream: 'dead' }],
      retry: { max_attempts: 4, backoff_base: '1ms', backoff_cap: '5ms', budget_ratio: 100, budget_min: 50 },
    },
  });
  const n = 300;
  let ok = 0;
  const statuses = {};
  for (let i = 0; i < n; i += 10) {
    const batch = await Promise.all(Array.from({ length: 10 }, () => chat(gw)));
    for (const r of batch) {
      statuses[r.status] = (statuses[r.status] || 0) + 1;
      if (r.status === 200 && r.json().choices?.length === 1) ok++;
    }
  }
  assert.equal(ok, n, `all requests must succeed through sluice: ${JSON.stringify(statuses)}`);
  const flakyStats = await simStats(flaky);
  assert.ok(flakyStats.errors['503'] > 0, 'the flaky host did fail some attempts');
  // Round robin would send a third of 300+ attempts to the dead host; ejection after 3 failures keeps it
  // to a handful (each ejection is 60 s, longer than the test).
  assert.ok(dead.connections <= 10, `dead host saw ${dead.connections} connections`);
  const retried = gw.logs.filter((l) => l.attempts > 1).length;
  assert.ok(retried > 0, 'some requests needed a retry');
  assert.ok(gw.logs.every((l) => l.status === 200));
});

test('an exhausted group falls back to the next model, and the answer says which one', { timeout: 30000 }, async () => {
  const down = await sim(['--scenario', scenario('down', { outage: 'errors', outage_status: 503 })]);
  const backup = await sim(['--scenario', scenario('backup', { ttft: '1ms', itl: '0ms' }), '--models', '*']);
  const gw = await gateway({ down: upstream(down.port), backup: upstream(backup.port) }, {
    'deepseek-reasoner': { upstream: 'down', retry: { max_attempts: 2, backoff_base: '1ms', backoff_cap: '2ms' },
      fallbacks: ['deepseek-chat'] },
    'deepseek-chat': { upstream: 'backup' },
  });
  const r = await chat(gw, 'deepseek-reasoner');
  assert.equal(r.status, 200, r.body);
  assert.equal(r.headers['x-sluice-model'], 'deepseek-chat');
  assert.equal(r.headers['x-sluice-upstream'], 'backup');
  assert.equal(r.headers['x-sluice-attempts'], '3');
  assert.equal(r.json().model, 'deepseek-chat', 'the response model field names the model that answered');
  assert.equal((await simStats(down)).requests, 2);
});

test('client errors are answered at once, never retried', { timeout: 30000 }, async () => {
  const a = await sim(['--scenario', scenario('a', { ttft: '1ms' })]);
  const b = await sim(['--scenario', scenario('b', { ttft: '1ms' })]);
  const gw = await gateway({ a: upstream(a.port), b: upstream(b.port) }, {
    'deepseek-chat': { deployments: [{ upstream: 'a' }, { upstream: 'b' }] },
  });
  for (const status of [400, 404, 422]) {
    const r = await chat(gw, 'deepseek-chat', { 'x-sim-fault': `status=${status}` });
    assert.equal(r.status, status, r.body);
  }
  const total = (await simStats(a)).requests + (await simStats(b)).requests;
  assert.equal(total, 3, 'one attempt per request');
  // 402 (a provider key out of balance) is the key's fault, not the request's: the other upstream is tried.
  // One refusal per key is a hiccup, not a verdict (docs/routing.md): the third attempt (max_attempts) goes
  // with a key that refused only once.
  const r = await chat(gw, 'deepseek-chat', { 'x-sim-fault': 'status=402' });
  assert.equal(r.status, 402, r.body);
  assert.equal(r.headers['x-sluice-attempts'], '3');
  assert.equal((await simStats(a)).requests + (await simStats(b)).requests, 6);
});

test('during a total outage the retry budget keeps upstream attempts near the request count', { timeout: 60000 }, async () => {
  const x = await sim(['--scenario', scenario('x', { outage: 'errors', outage_status: 503 })]);
  const y = await sim(['--scenario', scenario('y', { outage: 'errors', outage_status: 503 })]);
  const gw = await gateway({ x: upstream(x.port), y: upstream(y.port) }, {
    'deepseek-chat': { deployments: [{ upstream: 'x' }, { upstream: 'y' }],
      retry: { max_attempts: 3, backoff_base: '1ms', backoff_cap: '2ms' } },
  });
  const n = 100;
  for (let i = 0; i < n; i++) {
    const r = await chat(gw);
    assert.equal(r.status, 503);
    assert.ok(r.json().error, 'an OpenAI-shaped error');
  }
  const attempts = (await simStats(x)).requests + (await simStats(y)).requests;
  assert.ok(attempts <= 1.2 * n, `${attempts} upstream attempts for ${n} requests`);
  assert.ok(attempts > n, 'the first failures were retried');
});
