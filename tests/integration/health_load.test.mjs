// Host signals from outside the request path: load-aware balancing from the sims' vLLM metrics, and active
// health checks (out of rotation, back, then slow start).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startGateway, curl, tempDir, sleep } from './lib/gateway.mjs';
import { startSim, writeScenario } from './lib/sim.mjs';

const cleanup = [];
after(async () => { for (const f of cleanup.reverse()) await f(); });

async function gateway(upstreams, model) {
  const gw = await startGateway({
    config: { listen: '127.0.0.1:0', workers: 1, log_level: 'warn', upstreams, models: { 'deepseek-chat': model } },
  });
  cleanup.push(() => gw.stop());
  return gw;
}

const chat = (gw) => curl(`${gw.url}/v1/chat/completions`, {
  timeoutMs: 20000,
  body: JSON.stringify({ model: 'deepseek-chat', max_tokens: 20, messages: [{ role: 'user', content: 'hi' }] }),
});

test('load_aware sends most traffic to the host with free capacity', { timeout: 60000 }, async () => {
  const sims = {};
  for (const [name, slots] of [['big', 32], ['small', 2]]) {
    sims[name] = await startSim(['--seed', '5', '--scenario',
      writeScenario(tempDir(), name, { slots, ttft: '100ms', itl: '5ms', output_tokens: 20 })]);
    cleanup.push(() => sims[name].stop());
  }
  const up = (s) => ({ base_url: s.base, load_metrics: { interval: '100ms' } });
  const gw = await gateway({ big: up(sims.big), small: up(sims.small) }, {
    balancer: 'load_aware', deployments: [{ upstream: 'big' }, { upstream: 'small' }],
  });
  await sleep(400);  // a few scrapes
  const counts = { big: 0, small: 0 };
  for (let round = 0; round < 3; round++) {
    const batch = await Promise.all(Array.from({ length: 20 }, () => chat(gw)));
    for (const r of batch) {
      assert.equal(r.status, 200, r.body);
      counts[r.headers['x-sluice-upstream']]++;
    }
  }
  // Least request (what load_aware falls back to without reports) would split a burst about evenly.
  assert.ok(counts.big >= 45, `big host got ${counts.big} of 60: ${JSON.stringify(counts)}`);
  assert.ok(counts.small >= 1, 'the small host still gets some traffic');
});

// A tiny upstream whose /health answer the test flips.
async function toggled(name) {
  const h = { healthy: true, checks: 0, name };
  h.server = http.createServer(async (req, res) => {
    for await (const _ of req) { /* drain */ }
    if (req.method === 'GET' && req.url === '/health') {
      h.checks++;
      res.writeHead(h.healthy ? 200 : 503).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ id: 'x', object: 'chat.completion', created: 1, model: 'deepseek-chat',
      choices: [{ index: 0, message: { role: 'assistant', content: name }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } }));
  });
  await new Promise((r) => h.server.listen(0, '127.0.0.1', r));
  h.port = h.server.address().port;
  cleanup.push(() => new Promise((r) => { h.server.closeAllConnections?.(); h.server.close(r); }));
  return h;
}

test('active health checks take a host out of rotation and bring it back with slow start', { timeout: 60000 }, async () => {
  const a = await toggled('a');
  const b = await toggled('b');
  const up = (h) => ({
    base_url: `http://127.0.0.1:${h.port}`,
    health_check: { path: '/health', interval: '100ms', timeout: '500ms', unhealthy_threshold: 2, healthy_threshold: 2 },
    slow_start: '20s',
  });
  const gw = await gateway({ a: up(a), b: up(b) }, {
    balancer: 'round_robin', deployments: [{ upstream: 'a' }, { upstream: 'b' }],
  });
  const share = async (n) => {
    const c = { a: 0, b: 0 };
    for (let i = 0; i < n; i++) {
      const r = await chat(gw);
      assert.equal(r.status, 200, r.body);
      c[r.headers['x-sluice-upstream']]++;
    }
    return c;
  };
  const before = await share(20);
  assert.deepEqual(before, { a: 10, b: 10 }, 'both healthy: round robin');
  b.healthy = false;
  await sleep(600);
  assert.deepEqual(await share(20), { a: 20, b: 0 }, 'failing checks: out of rotation');
  b.healthy = true;
  await sleep(600);
  // b starts at weight 0.1 and ramps over 20 s: ~100 turns give it ~10-30 wins; without slow start it would get 100.
  // (60 requests let it win none ~4 % of the time: 0.9^30.)
  const back = await share(200);
  assert.ok(back.b >= 1, `back in rotation: ${JSON.stringify(back)}`);
  assert.ok(back.b <= 60, `slow start: a returning host gets a fraction of its turns: ${JSON.stringify(back)}`);
  assert.ok(b.checks >= 6, 'checks kept running');
});
