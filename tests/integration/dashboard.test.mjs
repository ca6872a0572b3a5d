// The /ui dashboard in headless Chromium: loads without console errors, renders every panel (metric panels
// that have no data source say "not configured"), shows an upstream turning "ejected" when its sim fails
// requests, and writes a screenshot (path printed).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { curl } from './lib/gateway.mjs';
import { startAdminGateway, admin, chatBody, scenarioSim } from './lib/admin.mjs';

const CHROMIUM = '/usr/bin/chromium';
let chromium = null;
try { ({ chromium } = await import('playwright-core')); } catch { /* reported as a skip below */ }
const skip = !chromium ? 'playwright-core is not installed' : !fs.existsSync(CHROMIUM) ? `${CHROMIUM} is missing` : false;

const cleanup = [];
after(async () => { for (const f of cleanup.reverse()) await f(); });

const sim = (name, defaults) => scenarioSim(name, defaults, cleanup);

const upstream = (port) => ({
  base_url: `http://127.0.0.1:${port}`,
  timeouts: { connect: '1s', first_token: '5s', idle: '5s', total: '10s' },
  outlier: { consecutive_failures: 2, base_ejection: '60s' },
});

test('dashboard: loads cleanly, shows an upstream turning ejected, screenshot', { timeout: 60000, skip }, async () => {
  const good = await sim('good', { ttft: '1ms', itl: '0ms' });
  const failing = await sim('failing', { outage: 'errors', outage_status: 503 });
  const gw = await startAdminGateway({
    config: {
      listen: '127.0.0.1:0', workers: 1, log_level: 'warn', access_log: 'off',
      admin: { listen: '127.0.0.1:0' },
      upstreams: { good: upstream(good.port), failing: upstream(failing.port) },
      models: { 'deepseek-chat': { balancer: 'round_robin', deployments: [{ upstream: 'good' }, { upstream: 'failing' }],
        retry: { max_attempts: 2, backoff_base: '1ms', backoff_cap: '2ms' } } },
    },
  });
  cleanup.push(() => gw.stop());

  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'], timeout: 20000 });
  cleanup.push(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const problems = [];
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('requestfailed', (r) => problems.push(`requestfailed: ${r.url()}`));

  const resp = await page.goto(`${gw.adminUrl}/ui`, { timeout: 15000 });
  assert.equal(resp.status(), 200);
  assert.match(resp.headers()['content-type'], /text\/html/);
  // Polls every second: wait for a few rounds.
  await page.waitForFunction(() => Number(document.body.dataset.polls || 0) >= 2, null, { timeout: 15000 });
  const rows = await page.$$eval('#upstreams tr', (trs) => trs.map((tr) => [tr.dataset.upstream, tr.querySelector('.state').textContent]));
  assert.deepEqual(rows, [['failing', 'healthy'], ['good', 'healthy']]);

  // Metric panels render either a value or "not configured", never an error or blank.
  for (const id of ['rps', 'success', 'ttft', 'cache', 'spend', 'queue']) {
    const text = (await page.textContent(`#${id}`)).trim();
    assert.ok(text.length > 0, `panel ${id} is empty`);
  }
  const state = (await admin(gw.adminUrl, '/ui/state')).json();
  // Queue depth comes from the admission layer; without it the panel says so.
  if (!/^sluice_queue_depth/m.test(state.metrics || '')) {
    assert.equal((await page.textContent('#queue')).trim(), 'not configured');
  }

  // Traffic: the failing sim answers 503, two in a row eject it (each request retries on the good host).
  for (let i = 0; i < 6; i++) {
    const r = await curl(`${gw.url}/v1/chat/completions`, { body: chatBody() });
    assert.equal(r.status, 200, r.body);
  }
  await page.waitForFunction(
    () => document.querySelector('tr[data-upstream="failing"] .state')?.textContent === 'ejected', null, { timeout: 10000 });
  assert.equal(await page.textContent('tr[data-upstream="good"] .state'), 'healthy');
  const until = await page.textContent('tr[data-upstream="failing"] td:nth-child(7)');
  assert.match(until, /\dT\d.*Z$/, 'ejected-until shown');

  // The drain button works from the page.
  await page.click('tr[data-upstream="good"] button[data-act="drain"]');
  await page.waitForFunction(
    () => document.querySelector('tr[data-upstream="good"] .state')?.textContent === 'drained', null, { timeout: 10000 });

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-ui-'));
  const shot = path.join(dir, 'dashboard.png');
  await page.screenshot({ path: shot, fullPage: true });
  assert.ok(fs.statSync(shot).size > 5000);
  console.log(`dashboard screenshot: ${shot}`);
  assert.deepEqual(problems, [], 'no console errors, page errors or failed requests');
});

test('dashboard with an admin key: page is served, its data needs the key (given in the URL fragment)', { timeout: 60000, skip }, async () => {
  const good = await sim('good', { ttft: '1ms', itl: '0ms' });
  const key = 'dashboard-key-0123456789';
  const gw = await startAdminGateway({
    config: {
      listen: '127.0.0.1:0', workers: 1, log_level: 'warn', access_log: 'off',
      admin: { key_env: 'ADMIN_KEY' },
      upstreams: { good: upstream(good.port) },
      models: { 'deepseek-chat': { upstream: 'good' } },
    },
    env: { ADMIN_KEY: key },
  });
  cleanup.push(() => gw.stop());
  assert.equal((await curl(`${gw.url}/ui/state`)).status, 401);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'], timeout: 20000 });
  cleanup.push(() => browser.close());
  const page = await browser.newPage();
  await page.goto(`${gw.url}/ui#key=${key}`, { timeout: 15000 });
  await page.waitForFunction(() => document.querySelector('tr[data-upstream="good"] .state')?.textContent === 'healthy',
    null, { timeout: 15000 });
});

test('dashboard math: rates, success rate and TTFT quantiles from two synthetic scrapes', { timeout: 60000, skip }, async () => {
  const good = await sim('good', { ttft: '1ms', itl: '0ms' });
  const gw = await startAdminGateway({
    config: {
      listen: '127.0.0.1:0', workers: 1, log_level: 'warn', access_log: 'off', admin: { listen: '127.0.0.1:0' },
      upstreams: { good: upstream(good.port) }, models: { 'deepseek-chat': { upstream: 'good' } },
    },
  });
  cleanup.push(() => gw.stop());
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'], timeout: 20000 });
  cleanup.push(() => browser.close());
  const page = await browser.newPage();
  await page.goto(`${gw.adminUrl}/ui`, { timeout: 15000 });
  await page.waitForFunction(() => Number(document.body.dataset.polls || 0) >= 1, null, { timeout: 15000 });
  const scrape = (ok, bad, buckets) => [
    '# TYPE sluice_requests_total counter',
    `sluice_requests_total{model="m",upstream="u",status_class="2xx"} ${ok}`,
    `sluice_requests_total{model="m",upstream="u",status_class="5xx"} ${bad}`,
    '# TYPE sluice_ttft_seconds histogram',
    ...Object.entries(buckets).map(([le, c]) => `sluice_ttft_seconds_bucket{model="m",upstream="u",le="${le}"} ${c}`),
    '# TYPE sluice_queue_depth gauge',
    'sluice_queue_depth{group="g",priority="high"} 2',
    'sluice_queue_depth{group="h",priority="high"} 3',
    'sluice_queue_depth{group="g",priority="low"} 7',
    '# TYPE sluice_concurrency_limit gauge',
    'sluice_concurrency_limit{group="g"} 12',
    '# TYPE sluice_cache_requests_total counter',
    'sluice_cache_requests_total{result="hit"} 30',
    'sluice_cache_requests_total{result="miss"} 70',
  ].join('\n');
  const out = await page.evaluate(([a, b]) => {
    history.length = 0;  // the page's own poll history
    const s0 = { t: 1000, m: parseProm(a) };
    const s1 = { t: 6000, m: parseProm(b) };
    history.push(s0, s1);
    renderMetrics(s1, { metrics: b, upstreams: [], spend_today_usd: 1.5, spend_since: 'x' });
    return {
      p50: quantile(0.5, s1, s0, 'sluice_ttft_seconds'),
      p99: quantile(0.99, s1, s0, 'sluice_ttft_seconds'),
      rps: document.getElementById('rps').textContent,
      success: document.getElementById('success').textContent,
      ttft: document.getElementById('ttft').textContent,
      queue: document.getElementById('queue').textContent,
      cache: document.getElementById('cache').textContent,
      spend: document.getElementById('spend').textContent,
    };
  }, [scrape(100, 0, { 0.1: 10, 0.5: 20, 1: 20, '+Inf': 20 }),
    // +50 requests in 5 s, 5 of them 5xx; of 100 new TTFTs, 50 under 0.1 s, 40 in (0.1, 0.5], 10 in (0.5, 1].
    scrape(145, 5, { 0.1: 60, 0.5: 110, 1: 120, '+Inf': 120 })]);
  assert.equal(out.rps, '10.0');
  assert.equal(out.success, '90.0 %');
  assert.ok(Math.abs(out.p50 - 0.1) < 1e-9, `p50 ${out.p50}`);  // rank 50 = exactly the 0.1 s bucket edge
  assert.ok(Math.abs(out.p99 - 0.95) < 1e-9, `p99 ${out.p99}`);  // rank 99: 9/10 into (0.5, 1]
  assert.equal(out.ttft, '100 ms / 950 ms');
  assert.match(out.queue, /high\s*5/);
  assert.match(out.queue, /low\s*7/);
  assert.match(out.queue, /limit g\s*12/);
  assert.equal(out.cache, '30.0 %');
  assert.equal(out.spend, '$1.5000');
});
