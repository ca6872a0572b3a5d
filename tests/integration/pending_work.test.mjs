// The autoscaling signal (docs/kubernetes.md#autoscaling): sluice_pending_work counts the work a pod cannot
// start now. 20 requests at once against a gate of 4 slots: it reads 16 while they wait, and 0 once they
// are served; without a gate it exists and stays 0.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, baseConfig, sleep } from './lib/gateway.mjs';
import { startSim } from './lib/sim.mjs';
import { scrape, sum } from './lib/prom.mjs';

const chat = JSON.stringify({ model: 'deepseek-chat', messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 });

async function pending(gw) {
  const { samples } = await scrape(gw.url);
  return {
    total: sum(samples, 'sluice_pending_work'),
    group: sum(samples, 'sluice_group_pending_work', { group: 'deepseek-chat' }),
    queued: sum(samples, 'sluice_queue_depth', { group: 'deepseek-chat' }),
  };
}

describe('sluice_pending_work', () => {
  let sim;
  before(async () => { sim = await startSim(['--ttft', '700ms', '--itl', '0', '--slots', '64']); });
  after(async () => { await sim?.stop(); });

  test('rises with the queue of an overloaded gate and falls back to 0', { timeout: 30_000 }, async () => {
    const cfg = baseConfig({ upstreamUrl: sim.base });
    cfg.admission = { groups: { 'deepseek-chat': { max_concurrent: 4, adaptive: 'off', max_queue: 100 } } };
    const gw = await startGateway({ config: cfg, env: { FAKE_PROVIDER_KEY: 'sk-sim' } });
    try {
      assert.deepEqual(await pending(gw), { total: 0, group: 0, queued: 0 });
      const requests = Array.from({ length: 20 }, () => fetch(`${gw.url}/v1/chat/completions`, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: chat,
      }).then(async (r) => ({ status: r.status, body: await r.text() })));
      let peak = { total: 0 };
      const until = Date.now() + 3000;
      while (Date.now() < until && peak.total < 16) {
        const p = await pending(gw);
        if (p.total > peak.total) peak = p;
        await sleep(20);
      }
      assert.deepEqual(peak, { total: 16, group: 16, queued: 16 }, '4 run, 16 wait');
      const answers = await Promise.all(requests);
      for (const a of answers) assert.equal(a.status, 200, a.body);
      assert.deepEqual(await pending(gw), { total: 0, group: 0, queued: 0 });
    } finally {
      await gw.kill();
    }
  });

  test('exists at 0 without any admission group', { timeout: 10_000 }, async () => {
    const gw = await startGateway({ config: baseConfig({ upstreamUrl: sim.base }), env: { FAKE_PROVIDER_KEY: 'sk-sim' } });
    try {
      const { samples, text } = await scrape(gw.url);
      assert.equal(sum(samples, 'sluice_pending_work'), 0);
      assert.match(text, /# TYPE sluice_pending_work gauge/);
    } finally {
      await gw.kill();
    }
  });
});
