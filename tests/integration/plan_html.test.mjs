// `sluice plan --html` opened in headless Chromium: the page loads from a file with no console errors and
// no requests (self-contained), and its three charts are drawn: bars per option, load against capacity
// over 168 hours, cost against utilisation with break-even markers. Writes a screenshot (path printed).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { runSluice } from './lib/gateway.mjs';

const CHROMIUM = '/usr/bin/chromium';
let chromium = null;
try { ({ chromium } = await import('playwright-core')); } catch { /* reported as a skip below */ }
const skip = !chromium ? 'playwright-core is not installed' : !fs.existsSync(CHROMIUM) ? `${CHROMIUM} is missing` : false;
const EXAMPLES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../examples');

const cleanup = [];
after(async () => { for (const f of cleanup.reverse()) await f(); });

test('plan --html: self-contained page, charts drawn, no console errors', { timeout: 60000, skip }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-plan-html-'));
  const html = path.join(dir, 'plan.html');
  const r = await runSluice(['plan', '-c', path.join(EXAMPLES, 'plan.yaml'), '--html', html], { timeoutMs: 20000 });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^sluice plan: profile /);  // the table still goes to stdout
  const text = fs.readFileSync(html, 'utf8');
  assert.doesNotMatch(text, /<script|<link|src=/, 'no scripts, no external assets');

  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'], timeout: 20000 });
  cleanup.push(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const problems = [];
  const requests = [];
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('request', (q) => { if (!q.url().startsWith('file:')) requests.push(q.url()); });
  await page.goto(pathToFileURL(html).href, { timeout: 15000 });

  const charts = await page.$$eval('svg.chart', (svgs) => svgs.map((s) => {
    const box = s.getBoundingClientRect();
    return {
      id: s.id,
      width: box.width,
      height: box.height,
      lines: [...s.querySelectorAll('polyline.series')].map((p) => ({
        name: p.dataset.series, points: p.points.numberOfItems, length: p.getTotalLength() })),
      bars: [...s.querySelectorAll('rect.bar')].map((b) => b.getBBox().width),
      markers: s.querySelectorAll('circle.marker').length,
    };
  }));
  assert.deepEqual(charts.map((c) => c.id), ['cost-per-option', 'load-vs-capacity', 'cost-vs-utilisation']);
  for (const c of charts) assert.ok(c.width > 300 && c.height > 100, `${c.id} has a size`);

  const [bars, week, cost] = charts;
  assert.equal(bars.bars.length, 6, 'one bar per option');
  assert.ok(bars.bars.every((w) => w >= 1));
  const names = week.lines.map((l) => l.name);
  for (const n of ['load (busy replicas)', 'needed for the SLO', 'autoscaled capacity', 'load, deferred', 'hybrid base']) {
    assert.ok(names.includes(n), `week chart has "${n}"`);
  }
  for (const l of week.lines) {
    assert.ok(l.points >= 168, `${l.name}: ${l.points} points`);
    assert.ok(l.length > 100, `${l.name} is drawn (length ${l.length})`);
  }
  assert.deepEqual(cost.lines.map((l) => l.name), ['on demand', 'spot', 'reserved', 'owned', 'API']);
  assert.ok(cost.lines.every((l) => l.points === 21 && l.length > 100));
  assert.ok(cost.markers >= 2, 'break-even markers');

  const rows = await page.$$eval('#options tr[data-option]', (trs) => trs.map((t) => t.dataset.option));
  assert.deepEqual(rows, ['api', 'api-deferred', 'self-hosted', 'self-hosted-deferred', 'hybrid', 'hybrid-deferred']);
  assert.ok((await page.textContent('#break-even')).includes('is cheaper than'));

  const shot = path.join(dir, 'plan.png');
  await page.screenshot({ path: shot, fullPage: true });
  assert.ok(fs.statSync(shot).size > 20000);
  console.log(`plan report screenshot: ${shot}`);
  assert.deepEqual(problems, [], 'no console errors or page errors');
  assert.deepEqual(requests, [], 'no network requests');
});
