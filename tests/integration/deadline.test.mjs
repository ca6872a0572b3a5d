// One end-to-end deadline (#9): X-Request-Timeout covers every attempt, retry and backoff. With every upstream
// stalling (queued behind keep-alives), each request ends with a 504 in OpenAI shape at its deadline.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, baseConfig } from './lib/gateway.mjs';
import { startSim, chatBody } from './lib/sim.mjs';

const stops = [];
after(async () => { for (const s of stops.reverse()) await s(); });

test('with every upstream stalling, 2 s deadlines end at 2 s with a 504', { timeout: 20_000 }, async () => {
  const stall = ['--ttft', '60s', '--keepalive-interval', '100ms'];
  const a = await startSim(stall);
  stops.push(() => a.stop());
  const b = await startSim(stall);
  stops.push(() => b.stop());
  const upstream = (sim) => ({ base_url: `${sim.base}/v1`, timeouts: { connect: '1s', first_token: '1200ms', idle: '5s', total: '30s' } });
  const cfg = baseConfig({ upstreams: { a: upstream(a), b: upstream(b) } });
  cfg.models = {
    'deepseek-chat': {
      deployments: [{ upstream: 'a' }, { upstream: 'b' }],
      retry: { max_attempts: 5, backoff_base: '10ms', backoff_cap: '50ms', budget_min: 20 },
    },
  };
  const gw = await startGateway({ config: cfg });
  stops.push(() => gw.stop());
  const one = async (stream) => {
    const t0 = performance.now();
    const r = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-timeout': '2' },
      body: chatBody({ stream }),
      signal: AbortSignal.timeout(10_000),
    });
    const body = await r.json();
    return { status: r.status, ms: performance.now() - t0, body };
  };
  // Four at once: the retry throttle (10 tokens, retries above 5) lets each of them retry once.
  const results = await Promise.all([false, true, false, true].map(one));
  const took = results.map((r) => Math.round(r.ms));
  for (const r of results) {
    assert.equal(r.status, 504, JSON.stringify(r.body));
    assert.equal(typeof r.body.error.message, 'string');
  }
  // The figure is 2 s ± 50 ms; the upper bound is looser here because CI machines are loaded.
  assert.ok(Math.min(...took) >= 1950, `ended before the deadline: ${took}`);
  assert.ok(Math.max(...took) <= 2400, `ended long after the deadline: ${took}`);
  console.log(`deadline 2000 ms, ended after ${took.join(', ')} ms`);
});
