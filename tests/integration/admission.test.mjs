// Admission control against the real gateway in front of `sluice sim`: per-key request and token limits
// (429 + x-ratelimit-* headers), model allow-lists, priority classes capped by the key, the group queue
// (strict priority, deadline answered at once, queue full → 503 with Retry-After) and degradation.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, sleep } from './lib/gateway.mjs';
import { startSim } from './lib/sim.mjs';

const T = { timeout: 25000 };
const procs = [];
after(async () => { await Promise.all(procs.map((p) => p.stop())); });

const KEY = 'sk-admission-test';
let sim;
async function simUrl() {
  if (!sim) {
    sim = await startSim(['--ttft', '0', '--itl', '0', '--output-tokens', '4', '--models', '*']);
    procs.push(sim);
  }
  return sim.base;
}

async function gateway({ keyPolicy = {}, admission, models } = {}) {
  const base = await simUrl();
  const config = {
    listen: '127.0.0.1:0',
    workers: 2,  // waiters are woken across worker threads
    log_level: 'warn',
    access_log: 'off',
    upstreams: { sim: { base_url: base, timeouts: { connect: '2s', first_token: '10s', idle: '10s', total: '20s' } } },
    models: models || {
      'deepseek-chat': { upstream: 'sim', retry: { max_attempts: 1 } },
      'deepseek-lite': { upstream: 'sim', retry: { max_attempts: 1 } },
    },
    keys: [{ name: 'tenant', secret_env: 'TENANT_KEY', ...keyPolicy }],
  };
  if (admission) config.admission = admission;
  const gw = await startGateway({ config, env: { TENANT_KEY: KEY } });
  procs.push(gw);
  return gw;
}

async function chat(gw, { headers = {}, body = {}, fault } = {}) {
  const h = { 'content-type': 'application/json', authorization: `Bearer ${KEY}`, ...headers };
  if (fault) h['x-sim-fault'] = fault;
  const started = Date.now();
  const r = await fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST', headers: h,
    body: JSON.stringify({ model: 'deepseek-chat', messages: [{ role: 'user', content: 'hello there' }], ...body }),
  });
  const text = await r.text();
  return { status: r.status, headers: Object.fromEntries(r.headers), text, ms: Date.now() - started, json: () => JSON.parse(text) };
}

const RESET = /^(\d+ms|\d+s|\d+m\d+s)$/;

function assert429(r, kind) {
  assert.equal(r.status, 429, r.text);
  const e = r.json().error;
  assert.equal(e.code, 'rate_limit_exceeded');
  assert.equal(e.type, kind);
  assert.match(r.headers['retry-after'], /^[1-9]\d*$/);
  assert.match(r.headers['retry-after-ms'], /^\d+$/);
}

test('RPM: 2x the limit at once → exactly the limit passes (±1), the rest 429 with OpenAI headers', T, async () => {
  const gw = await gateway({ keyPolicy: { limits: { rpm: 20 } } });  // refills 1 per 3 s: negligible here
  const results = await Promise.all(Array.from({ length: 40 }, () => chat(gw)));
  const ok = results.filter((r) => r.status === 200);
  const limited = results.filter((r) => r.status === 429);
  assert.equal(ok.length + limited.length, 40, results.map((r) => r.status).join(','));
  assert.ok(ok.length >= 20 && ok.length <= 21, `passed ${ok.length}`);
  for (const r of limited) {
    assert429(r, 'requests');
    assert.equal(r.headers['x-ratelimit-limit-requests'], '20');
    assert.equal(r.headers['x-ratelimit-remaining-requests'], '0');
    assert.match(r.headers['x-ratelimit-reset-requests'], RESET);
    assert.ok(Number(r.headers['retry-after']) <= 3);  // one request refills in 3 s
  }
  // Successful answers carry the headers too; remaining counts down.
  const remaining = ok.map((r) => Number(r.headers['x-ratelimit-remaining-requests'])).sort((a, b) => a - b);
  assert.equal(remaining[0], 0);
  assert.ok(remaining[remaining.length - 1] >= 18);
  for (const r of ok) assert.equal(r.headers['x-ratelimit-limit-requests'], '20');
});

test('RPM over a window: 2x the rate spread evenly → the window\'s worth passes (±1)', T, async () => {
  // The 60 RPM / 120 requests per minute case scaled to a 4 s window: 20 per 4 s, 40 requests 100 ms apart.
  const gw = await gateway({ keyPolicy: { limits: { rpm: 20, window: '4s', request_burst: 2 } } });
  const t0 = Date.now();
  const pending = [];
  for (let i = 0; i < 40; ++i) {
    const at = t0 + i * 100;
    await sleep(Math.max(0, at - Date.now()));
    pending.push(chat(gw));
  }
  const results = await Promise.all(pending);
  const ok = results.filter((r) => r.status === 200).length;
  assert.equal(results.filter((r) => r.status === 429).length, 40 - ok);
  assert.ok(ok >= 19 && ok <= 21, `passed ${ok} of 40`);
});

test('TPM: estimates charged up front (0.3/char + max_tokens), reconciled with real usage', T, async () => {
  const gw = await gateway({ keyPolicy: { limits: { tpm: 1000 } } });
  // "user:hello there" = 16 chars → 5 tokens; + max_tokens 90 = 95 per request → 10 fit in 1000.
  const body = { max_tokens: 90 };
  const results = await Promise.all(Array.from({ length: 20 }, () => chat(gw, { body, fault: 'ttft=400ms,tokens=4' })));
  const ok = results.filter((r) => r.status === 200);
  const limited = results.filter((r) => r.status === 429);
  assert.ok(ok.length >= 10 && ok.length <= 11, `passed ${ok.length}`);
  assert.equal(limited.length, 20 - ok.length);
  for (const r of limited) {
    assert429(r, 'tokens');
    assert.equal(r.headers['x-ratelimit-limit-tokens'], '1000');
    assert.ok(Number(r.headers['x-ratelimit-remaining-tokens']) < 95);
    assert.match(r.headers['x-ratelimit-reset-tokens'], RESET);
  }
  // Each answer really used 5 + 4 tokens: the unused estimate came back, so there is room again.
  const next = await chat(gw, { body, fault: 'tokens=4' });
  assert.equal(next.status, 200, next.text);
  const usage = next.json().usage;
  assert.equal(usage.prompt_tokens, 5);
  assert.ok(Number(next.headers['x-ratelimit-remaining-tokens']) >= 1000 - 11 * 9 - 95,
    `remaining ${next.headers['x-ratelimit-remaining-tokens']}`);
  // A request that can never fit is refused without a Retry-After that would lie.
  const big = await chat(gw, { body: { max_tokens: 5000 } });
  assert.equal(big.status, 429);
  assert.equal(big.headers['retry-after'], undefined);
  assert.match(big.json().error.message, /too large/);
});

test('key policy: model allow-list, max_concurrent, X-Priority capped by the ceiling', T, async () => {
  const gw = await gateway({
    keyPolicy: { allowed_models: ['deepseek-chat'], priority: 'low', max_priority: 'medium', limits: { max_concurrent: 2 } },
  });
  const denied = await fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
    body: JSON.stringify({ model: 'deepseek-lite', messages: [{ role: 'user', content: 'x' }] }),
  });
  assert.equal(denied.status, 403);
  assert.equal((await denied.json()).error.code, 'model_not_allowed');
  assert.equal((await chat(gw)).headers['x-sluice-priority'], 'low');
  assert.equal((await chat(gw, { headers: { 'x-priority': 'high' } })).headers['x-sluice-priority'], 'medium');
  const three = await Promise.all([0, 1, 2].map(() => chat(gw, { fault: 'ttft=500ms' })));
  assert.deepEqual(three.map((r) => r.status).sort(), [200, 200, 429]);
  const c = three.find((r) => r.status === 429);
  assert.match(c.json().error.message, /concurrent/);
});

const queued = (extra = {}) => ({
  policy: 'strict',
  groups: { 'deepseek-chat': { max_concurrent: 1, max_queue: 10, ...extra } },
});

test('priority: queued requests are served high, medium, then low, FIFO within a class', T, async () => {
  const gw = await gateway({ admission: queued() });
  const order = [];
  const send = (name, prio, ttft = '150ms') => chat(gw, { headers: { 'x-priority': prio }, fault: `ttft=${ttft}` })
    .then((r) => { assert.equal(r.status, 200, r.text); order.push(name); });
  const holder = send('holder', 'low', '1500ms');  // holds the only slot while the others queue
  await sleep(200);
  const rest = [];
  for (const [name, prio] of [['low1', 'low'], ['low2', 'low'], ['medium', 'medium'], ['high1', 'high'], ['high2', 'high']]) {
    rest.push(send(name, prio));
    await sleep(30);
  }
  await Promise.all([holder, ...rest]);
  assert.deepEqual(order, ['holder', 'high1', 'high2', 'medium', 'low1', 'low2']);
});

test('queue: a deadline that the wait would pass is answered at once; one that passes while queued, at the deadline', T, async () => {
  const gw = await gateway({ admission: queued() });
  // Teach the gate how long a slot is held (~1.5 s).
  assert.equal((await chat(gw, { fault: 'ttft=1500ms' })).status, 200);
  const holder = chat(gw, { fault: 'ttft=4s' });
  await sleep(200);
  const fast = await chat(gw, { headers: { 'x-request-timeout': '1' } });
  assert.equal(fast.status, 503, fast.text);
  assert.equal(fast.json().error.code, 'overloaded');
  assert.match(fast.json().error.message, /deadline/);
  assert.ok(fast.ms < 600, `took ${fast.ms} ms`);  // the deadline was 1000 ms away
  assert.match(fast.headers['retry-after'], /^[1-9]\d*$/);
  // Fits the estimate, but the holder outlasts it: answered when the deadline comes, not later.
  const waited = await chat(gw, { headers: { 'x-request-timeout': '2' } });
  assert.equal(waited.status, 503, waited.text);
  assert.match(waited.json().error.message, /deadline/);
  assert.ok(waited.ms >= 1800 && waited.ms < 2800, `took ${waited.ms} ms`);
  assert.equal((await holder).status, 200);
});

test('queue full → 503 at once with Retry-After; a degradation model serves the shed class instead', T, async () => {
  const gw = await gateway({
    admission: {
      groups: {
        'deepseek-chat': { max_concurrent: 1, max_queue: 1, degrade: { medium: 'deepseek-lite' } },
      },
    },
  });
  const holder = chat(gw, { fault: 'ttft=1s' });
  await sleep(150);
  const waiter = chat(gw, { headers: { 'x-priority': 'high' }, fault: 'ttft=10ms' });
  await sleep(100);
  const shed = await chat(gw, { headers: { 'x-priority': 'low' } });
  assert.equal(shed.status, 503, shed.text);
  assert.match(shed.json().error.message, /queue_full/);
  assert.ok(shed.ms < 600, `took ${shed.ms} ms`);  // the holder keeps the slot for 1 s
  assert.match(shed.headers['retry-after'], /^[1-9]\d*$/);
  const degraded = await chat(gw, { headers: { 'x-priority': 'medium' } });
  assert.equal(degraded.status, 200, degraded.text);
  assert.equal(degraded.headers['x-sluice-model'], 'deepseek-lite');
  assert.match(degraded.headers['x-sluice-degraded'], /deepseek-chat -> deepseek-lite \(queue_full\)/);
  assert.equal((await holder).status, 200);
  assert.equal((await waiter).status, 200);
});
