// Three gateway replicas sharing state through a real redis-server (docs/scale-out.md): one rate limit per
// window, one concurrency limit, one budget, one cache and one upstream call per identical request, and no
// request lost while Redis is killed and restarted.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';

import { startGateway, sleep, waitFor, baseConfig } from './lib/gateway.mjs';
import { startFakeUpstream } from './lib/fake_upstream.mjs';
import { startRedis, redisAvailable } from './lib/redis.mjs';
import { parseMetrics, sum } from './lib/prom.mjs';

const skip = !redisAvailable() && 'redis-server is not installed';
const ADMIN_KEY = 'admin-key-0123456789abcdef';
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

let redis;
let upstream;
const started = [];

before(async () => {
  upstream = await startFakeUpstream();
  if (!skip) redis = await startRedis();
});

after(async () => {
  for (const gw of started) await gw.stop().catch(() => {});
  await upstream?.close?.();
  await redis?.stop();
  agent.destroy();
});

// Three replicas of one config; every test uses its own key prefix so tests do not share state.
async function replicas(prefix, { keys, cache, pricing, timeouts } = {}) {
  const cfg = baseConfig({ upstreamUrl: upstream.url, keys, timeouts });
  cfg.state = {
    backend: 'redis',
    sync_interval: '50ms',
    lease_ttl: '300ms',
    heartbeat: '200ms',
    redis: { address: redis.address, key_prefix: prefix, timeout: '100ms' },
  };
  cfg.admin = { key_env: 'SLUICE_ADMIN_KEY' };
  cfg.cache = cache || { enabled: false };
  if (pricing) cfg.pricing = pricing;
  const env = { SLUICE_ADMIN_KEY: ADMIN_KEY, FAKE_PROVIDER_KEY: 'sk-fake', TEAM_KEY: 'sk-team' };
  const gws = [];
  for (let i = 0; i < 3; i++) {
    const gw = await startGateway({ config: structuredClone(cfg), env });
    started.push(gw);
    gws.push(gw);
  }
  // Every replica has heartbeated once: the fallback share would be limit ÷ 3.
  await waitFor(() => redis.cli('ZCARD', `${prefix}:{replicas}`) === '3', 5000, 'three replicas in Redis');
  return gws;
}

const team = (limits, budget) => [{ name: 'team', secret_env: 'TEAM_KEY', limits, ...(budget ? { budget } : {}) }];

// POST /v1/chat/completions through node's http client (keep-alive); resolves {status, headers, body}.
function chat(gw, body, headers = {}) {
  const data = JSON.stringify(body);
  return new Promise((resolve) => {
    const req = http.request(`${gw.url}/v1/chat/completions`, {
      method: 'POST', agent,
      headers: { 'content-type': 'application/json', authorization: 'Bearer sk-team', ...headers },
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: text }));
      res.on('error', (e) => resolve({ status: 0, error: e, body: text }));
    });
    req.on('error', (e) => resolve({ status: 0, error: e }));
    req.end(data);
  });
}

// /metrics is served with the admin routes, behind the admin key.
async function metricsOf(gw) {
  const r = await fetch(`${gw.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
  assert.equal(r.status, 200);
  return parseMetrics(await r.text());
}

const body = (content, extra = {}) => ({ model: 'deepseek-chat', messages: [{ role: 'user', content }], ...extra });

test('a key with rpm 600 across three replicas gets 600 ± 2 % per window', { skip, timeout: 90000 }, async (t) => {
  const windowMs = 5000;
  const gws = await replicas('rate', { keys: team({ rpm: 600, window: '5s', request_burst: 60 }) });
  // 200 requests/s offered (the limit refills 120/s); windows counted by when each request was sent.
  const counts = new Map();
  const pending = [];
  const unexpected = [];  // asserted after every request settled, so none outlives the test
  const t0 = Date.now();
  const duration = 4 * windowMs + 1000;
  let i = 0;
  while (Date.now() - t0 < duration) {
    const sentAt = Date.now();
    const p = chat(gws[i % 3], body(`rate ${i}`, { max_tokens: 1 })).then((r) => {
      if (r.status !== 200 && r.status !== 429) unexpected.push(`${r.status} ${r.body}`);
      if (r.status === 200) {
        const w = Math.floor((sentAt - t0 - 1000) / windowMs);  // the first second drains the burst
        counts.set(w, (counts.get(w) || 0) + 1);
      }
    });
    pending.push(p);
    i++;
    const next = t0 + i * 5;
    if (next > Date.now()) await sleep(next - Date.now());
  }
  await Promise.all(pending);
  assert.deepEqual(unexpected.slice(0, 3), [], `${unexpected.length} answers neither 200 nor 429`);
  const measured = [0, 1, 2, 3].map((w) => counts.get(w) || 0);
  t.diagnostic(`admitted per 5 s window: ${measured.join(', ')} (${i} offered)`);
  for (const n of measured) {
    assert.ok(Math.abs(n - 600) <= 12, `per-window admissions ${JSON.stringify(measured)} (offered ${i} in ${duration} ms)`);
  }
  const m = await metricsOf(gws[0]);
  assert.equal(sum(m, 'sluice_state_backend_up', { backend: 'redis' }), 1);
  // Leases keep Redis off most requests: far fewer refills than admitted requests on this replica.
  const refills = sum(m, 'sluice_state_lease_refills_total');
  assert.ok(refills > 0, 'some refills');
  t.diagnostic(`replica 1: ${refills} refills, ${sum(m, 'sluice_state_round_trips_total')} round trips, ` +
    `${sum(m, 'sluice_state_fallback_total')} fallback decisions`);
});

test('concurrency never exceeds the limit by more than the number of replicas', { skip, timeout: 60000 }, async () => {
  let inFlight = 0;
  let peak = 0;
  const slow = http.createServer((req, res) => {
    inFlight++;
    peak = Math.max(peak, inFlight);
    req.resume();
    setTimeout(() => {
      inFlight--;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: 'x', object: 'chat.completion', created: 1, model: 'deepseek-chat',
        choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }],
        usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } }));
    }, 300);
  });
  await new Promise((r) => slow.listen(0, '127.0.0.1', r));
  const saved = upstream.url;
  upstream.url = `http://127.0.0.1:${slow.address().port}`;
  try {
    const gws = await replicas('conc', { keys: team({ max_concurrent: 6 }) });
    let ok = 0;
    let limited = 0;
    for (let round = 0; round < 3; round++) {
      const rs = await Promise.all(Array.from({ length: 30 }, (_, i) => chat(gws[i % 3], body(`c ${round} ${i}`))));
      for (const r of rs) {
        if (r.status === 200) ok++;
        else if (r.status === 429) limited++;
        else assert.fail(`status ${r.status} ${r.body}`);
      }
      await sleep(400);  // idle slots go back to Redis
    }
    assert.ok(peak <= 6 + 3, `peak ${peak} in flight upstream`);
    assert.ok(ok >= 6 && limited > 0, `ok ${ok} limited ${limited}`);
  } finally {
    upstream.url = saved;
    slow.close();
  }
});

test('a budget stops spending within one request\'s cost of the cap', { skip, timeout: 60000 }, async () => {
  // The fake upstream's answer: 5 prompt (all cache misses) + 3 completion tokens = 8 tokens at $0.1 each.
  const pricing = { 'deepseek-chat': { input_cache_hit: 100000, input_cache_miss: 100000, output: 100000 } };
  const gws = await replicas('budget', { keys: team({}, { daily_usd: 8 }), pricing });
  let spentRequests = 0;
  let refused = null;
  for (let i = 0; i < 30; i++) {
    const r = await chat(gws[i % 3], body('hi', { max_tokens: 3 }));
    if (r.status === 200) spentRequests++;
    else {
      assert.equal(r.status, 429, r.body);
      refused = r;
    }
    await sleep(60);  // settled spend reaches Redis with the next sync
  }
  const cost = 0.8;
  assert.ok(spentRequests * cost >= 8 - 1e-9 && spentRequests * cost <= 8 + cost + 1e-9,
    `${spentRequests} requests at $${cost} against a cap of $8`);
  assert.ok(refused, 'the cap refused requests');
  const err = JSON.parse(refused.body).error;
  assert.equal(err.code, 'budget_exceeded');
  assert.match(err.message, /daily budget of \$8\.00 is spent.*resets in/);
  assert.ok(Number(refused.headers['retry-after']) > 0);
  // Every replica reports the same shared spend.
  await sleep(200);
  const views = await Promise.all(gws.map((gw) => fetch(`${gw.url}/admin/budgets`, {
    headers: { authorization: `Bearer ${ADMIN_KEY}` },
  }).then((r) => r.json())));
  for (const v of views) {
    assert.equal(v.backend, 'redis');
    const b = v.budgets.find((x) => x.key === 'team');
    assert.ok(Math.abs(b.daily.spent_usd - spentRequests * cost) < 1e-6, JSON.stringify(v));
    assert.equal(b.daily.exhausted, true);
  }
  const denied = await fetch(`${gws[0].url}/admin/budgets`);
  assert.equal(denied.status, 401);
});

test('a budget works without Redis too (state.backend local)', { timeout: 30000 }, async () => {
  const pricing = { 'deepseek-chat': { input_cache_hit: 100000, input_cache_miss: 100000, output: 100000 } };
  const cfg = baseConfig({ upstreamUrl: upstream.url, keys: team({}, { daily_usd: 2, monthly_usd: 100 }) });
  cfg.pricing = pricing;
  cfg.admin = { key_env: 'SLUICE_ADMIN_KEY' };
  const gw = await startGateway({ config: cfg, env: { SLUICE_ADMIN_KEY: ADMIN_KEY, FAKE_PROVIDER_KEY: 'x', TEAM_KEY: 'sk-team' } });
  started.push(gw);
  const statuses = [];
  for (let i = 0; i < 6; i++) statuses.push((await chat(gw, body('hi', { max_tokens: 3 }))).status);
  assert.deepEqual(statuses, [200, 200, 200, 429, 429, 429]);  // 0.8 + 0.8 + 0.8 (1.6 < 2) = 2.4, then spent
  const v = await fetch(`${gw.url}/admin/budgets?key=team`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })
    .then((r) => r.json());
  assert.equal(v.backend, 'local');
  assert.ok(Math.abs(v.budgets[0].daily.spent_usd - 2.4) < 1e-6, JSON.stringify(v));
  assert.ok(Math.abs(v.budgets[0].monthly.remaining_usd - 97.6) < 1e-6, JSON.stringify(v));
  const log = await gw.waitForLog((l) => l.failure === 'rate_limited_budget');
  assert.equal(log.status, 429);
});

test('an answer cached by one replica is a hit on the others', { skip, timeout: 60000 }, async () => {
  const gws = await replicas('cache', { cache: { enabled: true } });
  const b = body('cache me across replicas', { temperature: 0 });
  const before = upstream.requests.length;
  const first = await chat(gws[0], b);
  assert.equal(first.status, 200);
  assert.equal(first.headers['x-sluice-cache'], 'miss');
  await sleep(100);  // the entry is stored from the state thread
  for (const gw of [gws[1], gws[2]]) {
    const r = await chat(gw, b);
    assert.equal(r.status, 200);
    assert.equal(r.headers['x-sluice-cache'], 'hit');
    assert.equal(JSON.parse(r.body).choices[0].message.content, JSON.parse(first.body).choices[0].message.content);
  }
  // A stream request replays the same entry as SSE.
  const s = await chat(gws[2], { ...b, stream: true });
  assert.equal(s.headers['x-sluice-cache'], 'hit');
  assert.match(s.body, /data: \[DONE\]/);
  assert.equal(upstream.requests.length - before, 1);
});

test('50 identical requests spread over 3 replicas make 1 upstream call', { skip, timeout: 60000 }, async () => {
  const gws = await replicas('flight', { cache: { enabled: true } });
  const b = body('one call for all of us', { temperature: 0 });
  const before = upstream.requests.length;
  // The upstream keeps the leader waiting 600 ms (keep-alive blank lines, then the answer).
  const rs = await Promise.all(Array.from({ length: 50 }, (_, i) =>
    chat(gws[i % 3], b, { 'x-test-keepalives': '12', 'x-test-gap-ms': '50' })));
  for (const r of rs) assert.equal(r.status, 200, r.body);
  const contents = new Set(rs.map((r) => JSON.parse(r.body).choices[0].message.content));
  assert.equal(contents.size, 1);
  assert.equal(upstream.requests.length - before, 1, 'upstream calls');
  // All but the leader were answered by its call: joined it, or read its stored answer.
  const shared = rs.filter((r) => r.headers['x-sluice-coalesced'] === 'true' || r.headers['x-sluice-cache'] === 'hit');
  assert.equal(shared.length, 49);
});

test('kill -9 of redis-server mid-run loses no request', { skip, timeout: 90000 }, async () => {
  const gws = await replicas('crash', { keys: team({ rpm: 100000, max_concurrent: 1000 }), cache: { enabled: true } });
  const results = [];
  const load = (async () => {
    for (let i = 0; i < 400; i++) {
      results.push(chat(gws[i % 3], body(`load ${i}`, { temperature: i % 2 ? 0 : 1 })));
      await sleep(10);
    }
  })();
  await sleep(1000);
  await redis.kill9();
  await sleep(1500);
  const down = await metricsOf(gws[1]);
  assert.equal(sum(down, 'sluice_state_backend_up', { backend: 'redis' }), 0);
  await redis.start();
  await load;
  const all = await Promise.all(results);
  const bad = all.filter((r) => r.status !== 200);
  assert.equal(bad.length, 0, `failed: ${bad.slice(0, 3).map((r) => `${r.status} ${r.body}`).join('; ')}`);
  // Back to shared state after the restart.
  let up = 0;
  for (let i = 0; i < 50 && up !== 1; i++) {
    await sleep(100);
    up = sum(await metricsOf(gws[1]), 'sluice_state_backend_up', { backend: 'redis' });
  }
  assert.equal(up, 1);
  const m = await metricsOf(gws[1]);
  assert.ok(sum(m, 'sluice_state_fallback_total') > 0, 'decisions from the local share while Redis was down');
});
