// `sluice plan` (issue 28) against the real binary: traffic through the gateway to `sluice sim` with the
// ledger on, then `sluice plan --from-ledger` prices that traffic exactly as the ledger did (off-peak
// window included); an engine file from `sluice bench --engine-out` feeds the plan; invalid inputs get
// file:line: key.path errors; the shipped examples plan.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startGateway, baseConfig, tempDir, sleep, runSluice, toYaml } from './lib/gateway.mjs';
import { startSim } from './lib/sim.mjs';

const ADMIN = 'plan-admin-key';
const EXAMPLES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../examples');

// An off-peak window around now (UTC) at half price for deepseek-chat, none for the reasoner: the ledger
// prices the run's chat requests at half, and so must the planner.
function hhmm(minutes) {
  const m = ((minutes % 1440) + 1440) % 1440;
  return `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
}
const nowMin = new Date().getUTCHours() * 60 + new Date().getUTCMinutes();
const PRICES = {
  'deepseek-chat': { input_cache_hit: 0.07, input_cache_miss: 0.27, output: 1.1,
    off_peak: [`${hhmm(nowMin - 60)}-${hhmm(nowMin + 60)}`], off_peak_multiplier: 0.5 },
  'deepseek-reasoner': { input_cache_hit: 0.14, input_cache_miss: 0.55, output: 2.19 },
};
const ENGINE = { source: 'integration test: entered by hand', batch: 16, prefill_tokens_per_s: 20000,
  decode_tokens_per_s: 1600 };
const GPU = { on_demand_per_hour: 3.5, reserved_per_year: 20000, owned: { capex: 35000, lifetime_years: 3 } };

let sim;
const dir = tempDir();
const ledgerPath = path.join(dir, 'ledger.db');
let usageTotals;
let usageByModel;

const plan = (args, timeoutMs = 20000) => runSluice(['plan', ...args], { timeoutMs });
function writePlan(name, body) {
  const file = path.join(dir, name);
  fs.writeFileSync(file, typeof body === 'string' ? body : toYaml(body));
  return file;
}

before(async () => {
  sim = await startSim(['--seed', '5', '--ttft', '0', '--itl', '0', '--output-tokens', '20/80', '--slots', '64',
    '--log-level', 'warn']);
  const cfg = baseConfig({
    upstreamUrl: sim.base, workers: 2,
    models: { 'deepseek-chat': { upstream: 'fake' }, 'deepseek-reasoner': { upstream: 'fake' } },
  });
  cfg.ledger = { path: ledgerPath, flush_interval: '50ms' };
  cfg.pricing = PRICES;
  const gw = await startGateway({ config: cfg, env: { SLUICE_ADMIN_KEY: ADMIN } });
  try {
    const N = 300;
    let next = 0;
    const one = async (i) => {
      const body = {
        model: i % 3 === 0 ? 'deepseek-reasoner' : 'deepseek-chat',
        messages: [{ role: 'system', content: 'Be brief. '.repeat(30 + (i % 5) * 20) }, { role: 'user', content: `q ${i}` }],
        stream: i % 2 === 0,
        temperature: 1,
      };
      if (body.stream) body.stream_options = { include_usage: true };
      const r = await fetch(`${gw.url}/v1/chat/completions`, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
      });
      const text = await r.text();
      assert.equal(r.status, 200, text);
    };
    await Promise.all(Array.from({ length: 8 }, async () => { while (next < N) await one(next++); }));
    const usage = async (q = '') => (await fetch(`${gw.url}/admin/usage${q}`, { headers: { authorization: `Bearer ${ADMIN}` } })).json();
    for (let tries = 0; tries < 100; tries++) {
      usageTotals = (await usage()).totals;
      if (usageTotals.requests >= N) break;
      await sleep(50);
    }
    assert.equal(usageTotals.requests, N);
    usageByModel = (await usage('?group_by=model')).groups;
  } finally {
    await gw.stop();  // the ledger's last totals are on disk once it has stopped
  }
});

after(async () => { await sim?.stop(); });

test('plan --from-ledger: the API cost of the observed traffic equals the ledger\'s', { timeout: 30000 }, async () => {
  const cfg = writePlan('plan.yaml', { pricing: PRICES, engine: ENGINE, gpu: GPU, slo: { p99_first_token: '2s', headroom: 0.2 } });
  const r = await plan(['-c', cfg, '--from-ledger', ledgerPath, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  const o = j.observed;
  assert.equal(o.upstream_requests, 300);
  assert.equal(o.tokens.completion_tokens, usageTotals.completion_tokens);
  assert.equal(o.tokens.prompt_tokens, usageTotals.prompt_tokens);
  assert.ok(usageTotals.cost_usd > 0);
  // Priced by the planner from the tokens, minute by minute: the same dollars the gateway recorded.
  assert.ok(Math.abs(o.api_cost_usd - usageTotals.cost_usd) < 1e-9, `${o.api_cost_usd} vs ${usageTotals.cost_usd}`);
  assert.ok(Math.abs(o.ledger_cost_usd - usageTotals.cost_usd) < 1e-9);
  // The window mattered: at full price the chat requests would have cost twice as much.
  let full = 0;
  for (const g of usageByModel) {
    const p = PRICES[g.model];
    full += (g.prompt_cache_hit_tokens * p.input_cache_hit + g.prompt_cache_miss_tokens * p.input_cache_miss +
      g.completion_tokens * p.output) / 1e6;
  }
  assert.ok(full > o.api_cost_usd * 1.2, `off-peak discount applied: ${full} vs ${o.api_cost_usd}`);

  // The typical week built from it plans every option; the API option's cost is the observed rate.
  assert.deepEqual(j.options.map((x) => `${x.kind}${x.deferred ? '+defer' : ''}`),
    ['api', 'api+defer', 'self-hosted', 'self-hosted+defer', 'hybrid', 'hybrid+defer']);
  assert.ok(j.options[0].week_usd > 0);
  assert.equal(j.traffic.models.length, 2);
  assert.ok(j.notes.some((n) => /outside it/.test(n)), 'the short ledger is extrapolated, and says so');
  for (const x of j.options.slice(2)) {
    assert.equal(x.hours.required_replicas.length, 168);
    assert.ok(x.worst_p99_ttft_s === null || x.worst_p99_ttft_s <= 2.0 + 1e-6 || x.kind === 'self-hosted');
  }

  // The same ledger repriced without the window costs more: the planner reprices, it does not copy.
  const flat = structuredClone(PRICES);
  delete flat['deepseek-chat'].off_peak;
  delete flat['deepseek-chat'].off_peak_multiplier;
  const cfg2 = writePlan('plan-flat.yaml', { pricing: flat });
  const r2 = await plan(['-c', cfg2, '--from-ledger', ledgerPath, '--json']);
  assert.equal(r2.code, 0, r2.stderr);
  const o2 = JSON.parse(r2.stdout).observed;
  assert.ok(Math.abs(o2.api_cost_usd - full) < 1e-9, `${o2.api_cost_usd} vs ${full}`);
  assert.ok(Math.abs(o2.ledger_cost_usd - usageTotals.cost_usd) < 1e-9);

  // The table names the observed cost too.
  const t = await plan(['-c', cfg, '--from-ledger', ledgerPath]);
  assert.equal(t.code, 0, t.stderr);
  assert.match(t.stdout, /observed: .* API cost at the plan's prices \$/);
  assert.match(t.stdout, /break-even/);
});

test('an engine file written by sluice bench --engine-out feeds the plan', { timeout: 30000 }, async () => {
  const paced = await startSim(['--ttft', '30ms', '--itl', '2ms', '--output-tokens', '24', '--log-level', 'warn']);
  try {
    const engineFile = path.join(dir, 'engine.yaml');
    const b = await runSluice(['bench', '--quiet', '--url', paced.base, '--stream', '--concurrency', '4', '--requests', '40',
      '--max-tokens', '24', '--engine-out', engineFile, '--engine-gpus', '2'], { timeoutMs: 20000 });
    assert.equal(b.code, 0, b.stderr);
    const text = fs.readFileSync(engineFile, 'utf8');
    const num = (k) => Number(new RegExp(`^\\s*${k}: ([\\d.]+)$`, 'm').exec(text)[1]);
    assert.equal(num('batch'), 4);
    assert.equal(num('gpus'), 2);
    assert.equal(num('requests'), 40);
    // The rates reproduce the run's means: prefill = uncached prompt / TTFT, decode = 4 × completion / decode time.
    const prefill = num('prefill_tokens_per_s');
    const decode = num('decode_tokens_per_s');
    const ttft = num('mean_ttft_s');
    const e2e = num('mean_e2e_s');
    const prompt = num('mean_prompt_tokens') - num('mean_cached_prompt_tokens');
    assert.ok(ttft >= 0.03 && ttft < 1, `TTFT ${ttft}`);
    assert.ok(Math.abs(prefill * ttft - prompt) / prompt < 0.01, `${prefill} × ${ttft} vs ${prompt}`);
    assert.ok(Math.abs(prompt / prefill + 4 * num('mean_completion_tokens') / decode - e2e) / e2e < 0.01);

    const cfg = writePlan('plan-bench.yaml', { pricing: PRICES, gpu: GPU, engine: { file: 'engine.yaml' } });
    const r = await plan(['-c', cfg, '--from-ledger', ledgerPath, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.equal(j.engine.batch, 4);
    assert.equal(j.engine.gpus, 2);
    assert.equal(j.engine.prefill_tokens_per_s, prefill);
    assert.match(j.engine.source, /sluice bench --url http:\/\/127\.0\.0\.1:\d+ .* --concurrency 4/);

    // --engine-out needs a closed-loop streaming run.
    const bad = await runSluice(['bench', '--url', paced.base, '--rate', '5', '--requests', '1', '--engine-out', engineFile]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--engine-out needs --stream and --concurrency/);
  } finally {
    await paced.stop();
  }
});

test('invalid inputs: errors name the file, the line and the key', { timeout: 20000 }, async () => {
  const cfg = writePlan('bad-plan.yaml', 'pricing:\n  deepseek-chat: {input_cache_hit: 0.1, input_cache_miss: 0.2, output: 1}\n'
    + 'slo:\n  headroom: 2\ngpu:\n  spot_share: 0.5\n');
  const r = await plan(['-c', cfg, '--from-ledger', ledgerPath]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`${cfg}:4: slo\\.headroom: must be between 0 and 0\\.95`));
  assert.match(r.stderr, new RegExp(`${cfg}:6: gpu\\.spot_share: needs gpu\\.spot_per_hour`));
  assert.match(r.stderr, new RegExp(`${cfg}:5: gpu: expected at least one of on_demand_per_hour`));
  assert.equal(r.stdout, '');

  const good = writePlan('good.yaml', { pricing: PRICES });
  const profile = writePlan('bad-profile.yaml', 'models:\n  deepseek-chat:\n    requests_per_s: {hourly: [1, 2, 3]}\n'
    + '    prompt_tokens: 100\n    completion_tokens: {mean: 10, p99: 5}\n');
  const p = await plan(['-c', good, '--profile', profile]);
  assert.equal(p.code, 1);
  assert.match(p.stderr, new RegExp(`${profile}:3: models\\.deepseek-chat\\.requests_per_s\\.hourly: expected a list of 24 numbers`));
  assert.match(p.stderr, new RegExp(`${profile}:5: models\\.deepseek-chat\\.completion_tokens\\.p99: must not be below mean`));

  const engine = writePlan('bad-engine.yaml', 'source: x\nbatch: 0\nprefill_tokens_per_s: 1\ndecode_tokens_per_s: 1\nspeed: 3\n');
  const withEngine = writePlan('plan-engine.yaml', { pricing: PRICES, engine: { file: 'bad-engine.yaml' } });
  const e = await plan(['-c', withEngine, '--from-ledger', ledgerPath]);
  assert.equal(e.code, 1);
  assert.match(e.stderr, new RegExp(`${engine}:2: batch: must be between 1 and 100000, got 0`));
  assert.match(e.stderr, new RegExp(`${engine}:5: speed: unknown key "speed"`));

  const notLedger = await plan(['-c', good, '--from-ledger', good]);
  assert.equal(notLedger.code, 1);
  assert.match(notLedger.stderr, /good\.yaml: (cannot read ledger|not a sluice ledger|cannot open ledger)/);
  const none = await plan(['-c', good]);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /no traffic: give --from-ledger FILE or --profile FILE/);
  const both = await plan(['-c', good, '--profile', profile, '--from-ledger', ledgerPath]);
  assert.notEqual(both.code, 0);
});

test('the shipped examples plan, and the seed\'s break-even reads as docs/plan.md says', { timeout: 20000 }, async () => {
  const r = await plan(['-c', path.join(EXAMPLES, 'plan.yaml'), '--json']);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.options.length, 6);
  assert.ok(j.options.every((o) => o.month_usd > 0));
  const s = await plan(['-c', path.join(EXAMPLES, 'plan-seed.yaml')]);
  assert.equal(s.code, 0, s.stderr);
  assert.match(s.stdout, /owned is cheaper than on demand above 61\.5 % \(5,391 h\/year, 224\.6 days of full use\)/);
  assert.match(s.stdout, /reserved is cheaper than on demand above 73\.8 % \(6,469 h\/year, 269\.5 days of full use\)/);
  assert.match(s.stdout, /owned is cheaper than reserved at any utilisation/);
});
