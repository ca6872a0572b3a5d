// The usage/cost ledger against `sluice sim` (issue 6): over a mixed run of 1000 requests (stream with and
// without include_usage, non-stream, two models) the ledger's totals equal the tokens the sim reports it
// produced, cost follows the price table, /admin/usage is protected by the admin key, and the totals
// survive a restart.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startGateway, baseConfig, tempDir, sleep } from './lib/gateway.mjs';
import { startSim, simStats } from './lib/sim.mjs';

const ADMIN = 'admin-secret-7';
const PRICES = {
  'deepseek-chat': { input_cache_hit: 0.07, input_cache_miss: 0.27, output: 1.1 },
  'deepseek-reasoner': { input_cache_hit: 0.14, input_cache_miss: 0.55, output: 2.19 },
};

describe('usage ledger', () => {
  let sim;
  let gw;
  let cfg;
  const usage = (query = '', key = ADMIN) =>
    fetch(`${gw.url}/admin/usage${query}`, { headers: key ? { authorization: `Bearer ${key}` } : {} });

  before(async () => {
    sim = await startSim(['--seed', '11', '--ttft', '0', '--itl', '0', '--output-tokens', '20/80', '--slots', '64']);
    cfg = baseConfig({
      upstreamUrl: sim.base,
      workers: 2,
      models: { 'deepseek-chat': { upstream: 'fake' }, 'deepseek-reasoner': { upstream: 'fake' } },
    });
    cfg.ledger = { path: path.join(tempDir(), 'ledger.db'), flush_interval: '50ms' };
    cfg.pricing = PRICES;
    gw = await startGateway({ config: cfg, env: { SLUICE_ADMIN_KEY: ADMIN } });
  });

  after(async () => {
    await sim?.stop();
    await gw?.stop();
  });

  test('1000 mixed requests: ledger totals equal the sim\'s usage; restart keeps them', { timeout: 30_000 }, async () => {
    const N = 1000;
    const CONCURRENCY = 16;
    const clientSeen = { prompt: 0, completion: 0, requests: 0 };
    let next = 0;
    const one = async (i) => {
      const model = i % 3 === 0 ? 'deepseek-reasoner' : 'deepseek-chat';
      const stream = i % 2 === 0;
      const body = {
        model,
        // Shared long prefixes give the sim's prefix cache hits; temperature 1 keeps the response cache out.
        messages: [{ role: 'system', content: 'You are terse. '.repeat(40 + (i % 7) * 10) },
          { role: 'user', content: `question ${i}` }],
        stream,
      };
      if (stream && i % 4 === 0) body.stream_options = { include_usage: true };
      const r = await fetch(`${gw.url}/v1/chat/completions`, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
      });
      const text = await r.text();
      assert.equal(r.status, 200, text);
      clientSeen.requests++;
      if (!stream) {
        const u = JSON.parse(text).usage;
        clientSeen.prompt += u.prompt_tokens;
        clientSeen.completion += u.completion_tokens;
      } else {
        assert.equal(text.includes('"choices":[]'), !!body.stream_options, 'usage chunk only when asked');
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
      while (next < N) await one(next++);
    }));
    assert.equal(clientSeen.requests, N);

    // Rows are written by the ledger thread in batches: wait until all are in.
    let totals;
    for (let tries = 0; tries < 100; tries++) {
      totals = (await (await usage()).json()).totals;
      if (totals.requests >= N) break;
      await sleep(50);
    }
    const s = await simStats(sim);
    assert.equal(totals.requests, N);
    assert.equal(totals.upstream_requests, s.requests);
    assert.equal(totals.prompt_tokens, s.prompt_tokens);
    assert.equal(totals.completion_tokens, s.generation_tokens);
    assert.equal(totals.prompt_cache_hit_tokens, s.prefix_cache_hits);
    assert.equal(totals.prompt_cache_hit_tokens + totals.prompt_cache_miss_tokens, totals.prompt_tokens);
    assert.ok(totals.prompt_cache_hit_tokens > 0, 'the run exercised prefix-cache hits');
    assert.ok(totals.reasoning_tokens > 0, 'reasoner usage recorded');
    assert.equal(totals.savings_usd, 0);

    // Cost = tokens × price, per model.
    const byModel = (await (await usage('?group_by=model')).json()).groups;
    assert.equal(byModel.length, 2);
    let expected = 0;
    for (const g of byModel) {
      const p = PRICES[g.model];
      expected += (g.prompt_cache_hit_tokens * p.input_cache_hit + g.prompt_cache_miss_tokens * p.input_cache_miss +
        g.completion_tokens * p.output) / 1e6;
    }
    assert.ok(Math.abs(totals.cost_usd - expected) < 1e-6, `${totals.cost_usd} vs ${expected}`);

    // Access: no key → 401; bad parameter → 400; a time range before the run is empty.
    assert.equal((await usage('', null)).status, 401);
    assert.equal((await usage('', 'wrong')).status, 401);
    assert.equal((await usage('?group_by=colour')).status, 400);
    const old = await (await usage('?from=2000-01-01&to=2000-01-02')).json();
    assert.equal(old.totals.requests, 0);

    // Restart on the same file: the totals are still there.
    await gw.stop();
    gw = await startGateway({ config: cfg, env: { SLUICE_ADMIN_KEY: ADMIN } });
    const again = (await (await usage()).json()).totals;
    assert.deepEqual(again, totals);
  });
});
