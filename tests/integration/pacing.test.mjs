// Provider key pacing (#9): several API keys behind one upstream, spread by what the provider's
// x-ratelimit-* headers say, so requests stop before the provider has to answer 429; keys whose balance is
// gone (402) are skipped. The sim enforces per-key windows (--key-limit) and reports its 429s.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, baseConfig } from './lib/gateway.mjs';
import { startSim, simStats, chatBody } from './lib/sim.mjs';

const stops = [];
after(async () => { for (const s of stops.reverse()) await s(); });

async function setup({ simArgs, pacing, maxAttempts = 3 }) {
  const sim = await startSim(simArgs);
  stops.push(() => sim.stop());
  const cfg = baseConfig({
    upstreams: {
      ds: {
        base_url: `${sim.base}/v1`,
        api_key_env: ['KEY_SMALL', 'KEY_BIG'],
        key_pacing: pacing,
        timeouts: { connect: '2s', first_token: '5s', idle: '5s', total: '20s' },
      },
    },
    models: { 'deepseek-chat': { upstream: 'ds' } },
  });
  cfg.models['deepseek-chat'].retry = { max_attempts: maxAttempts };
  const gw = await startGateway({ config: cfg, env: { KEY_SMALL: 'sk-small', KEY_BIG: 'sk-big' } });
  stops.push(() => gw.stop());
  return { sim, gw };
}

// `total` requests, `concurrency` at a time; resolves with the status codes.
async function drive(gw, total, concurrency) {
  const statuses = [];
  let next = 0;
  const worker = async () => {
    while (next < total) {
      next += 1;
      const r = await fetch(`${gw.url}/v1/chat/completions`, {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: chatBody({ max_tokens: 4 }), signal: AbortSignal.timeout(10000),
      });
      await r.arrayBuffer();
      statuses.push(r.status);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return statuses;
}

// Window long enough that the whole run sits in one: capacity is exactly 3 + 12 = 15 requests.
const limits = ['--key-limit', 'sk-small=3,sk-big=12', '--key-window', '60s'];

test('with pacing, load below the keys\' combined limit never meets a 429', async () => {
  const { sim, gw } = await setup({ simArgs: limits, pacing: true });
  const statuses = await drive(gw, 14, 2);
  assert.deepEqual(statuses.filter((s) => s !== 200), []);
  const stats = await simStats(sim);
  assert.equal(stats.errors['429'] ?? 0, 0, `sim answered 429s: ${JSON.stringify(stats.errors)}`);
});

test('without pacing, round robin over the same keys runs into the small key\'s limit', async () => {
  const { sim, gw } = await setup({ simArgs: limits, pacing: false, maxAttempts: 1 });
  const statuses = await drive(gw, 14, 2);
  const stats = await simStats(sim);
  // 7 requests land on the 3-request key: 4 of them are refused by the provider and reach the client.
  assert.equal(stats.errors['429'], 4, JSON.stringify(stats.errors));
  assert.equal(statuses.filter((s) => s === 429).length, 4);
});

test('beyond the combined limit, requests wait for the reset when their deadline allows', async () => {
  const { sim, gw } = await setup({ simArgs: ['--key-limit', 'sk-small=1,sk-big=1', '--key-window', '4s'], pacing: true });
  const t0 = Date.now();
  const statuses = await drive(gw, 4, 1);  // one at a time: the pacer knows the window is used up
  const elapsed = Date.now() - t0;
  assert.deepEqual(statuses, [200, 200, 200, 200]);
  const stats = await simStats(sim);
  assert.equal(stats.errors['429'] ?? 0, 0, JSON.stringify(stats.errors));
  assert.ok(elapsed >= 300, `4 requests over 2 keys of 1/window must wait for a window reset (took ${elapsed} ms)`);
});

test('a key whose balance is gone is skipped, and the request is served by the other key', async () => {
  const { sim, gw } = await setup({ simArgs: ['--broke-keys', 'sk-small'], pacing: true });
  const statuses = await drive(gw, 6, 1);
  assert.deepEqual(statuses, [200, 200, 200, 200, 200, 200]);
  const stats = await simStats(sim);
  // Tried, then skipped for a second (doubling with each refusal in a row): probed once more at most here.
  assert.ok(stats.errors['402'] >= 1 && stats.errors['402'] <= 2, JSON.stringify(stats.errors));
  assert.match(gw.stderr, /API key KEY_SMALL balance exhausted \(402\)/);
});
