// The monitoring assets in deploy/: the alert rules load and pass their promtool unit tests, the Grafana
// dashboard is a well-formed JSON model, and both only use metric names from the metrics contract (so a
// renamed metric breaks this test instead of silently emptying a panel or muting an alert).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const rules = path.join(root, 'deploy/prometheus/alerts.yml');
const rulesTest = path.join(root, 'deploy/prometheus/alerts_test.yml');
const dashboard = path.join(root, 'deploy/grafana/sluice.json');

// The metrics contract (team brief, issue #7) plus the standard process metrics. Histograms are listed by
// family name; their _bucket/_sum/_count series are accepted too.
export const CONTRACT = {
  sluice_requests_total: 'counter',
  sluice_requests_in_flight: 'gauge',
  sluice_streams_in_flight: 'gauge',
  sluice_request_duration_seconds: 'histogram',
  sluice_ttft_seconds: 'histogram',
  sluice_tokens_total: 'counter',
  sluice_upstream_attempts_total: 'counter',
  sluice_retries_total: 'counter',
  sluice_fallbacks_total: 'counter',
  sluice_outlier_ejections_total: 'counter',
  sluice_upstream_healthy: 'gauge',
  sluice_upstream_ejected: 'gauge',
  sluice_upstream_drained: 'gauge',
  sluice_upstream_in_flight: 'gauge',
  sluice_upstream_ewma_ttft_seconds: 'gauge',
  sluice_group_upstreams: 'gauge',
  sluice_group_upstreams_available: 'gauge',
  sluice_hedges_total: 'counter',
  sluice_upstream_load_score: 'gauge',
  sluice_queue_depth: 'gauge',
  sluice_queue_wait_seconds: 'histogram',
  sluice_concurrency_limit: 'gauge',
  sluice_pending_work: 'gauge',
  sluice_group_pending_work: 'gauge',
  sluice_shed_total: 'counter',
  sluice_rate_limited_total: 'counter',
  sluice_cache_requests_total: 'counter',
  sluice_coalesced_total: 'counter',
  sluice_cache_bytes: 'gauge',
  sluice_cache_entries: 'gauge',
  sluice_cost_usd_total: 'counter',
  sluice_savings_usd_total: 'counter',
  sluice_config_reloads_total: 'counter',
  sluice_build_info: 'gauge',
  process_cpu_seconds_total: 'counter',
  process_resident_memory_bytes: 'gauge',
  process_virtual_memory_bytes: 'gauge',
  process_open_fds: 'gauge',
  process_max_fds: 'gauge',
  process_start_time_seconds: 'gauge',
};

function inContract(series) {
  if (CONTRACT[series]) return true;
  const m = /^(.*)_(bucket|sum|count)$/.exec(series);
  return Boolean(m && CONTRACT[m[1]] === 'histogram');
}

// Metric names in a PromQL expression: every sluice_/process_ identifier, and any identifier used as a
// selector (`name{...}`), which catches metrics from other prefixes too.
const PROMQL_KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'and', 'or', 'unless', 'bool', 'offset']);
export function metricNames(expr) {
  const names = new Set();
  const stripped = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');  // label values are not names
  for (const m of stripped.matchAll(/\b((?:sluice|process)_[a-zA-Z0-9_:]+)/g)) names.add(m[1]);
  for (const m of stripped.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{/g)) {
    if (!PROMQL_KEYWORDS.has(m[1])) names.add(m[1]);
  }
  return [...names];
}

function promtool(args) {
  const r = spawnSync('promtool', args, { cwd: path.dirname(rules), encoding: 'utf8', timeout: 30000 });
  assert.ifError(r.error);
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

test('alert rules pass promtool check rules and their unit tests', () => {
  const check = promtool(['check', 'rules', rules]);
  assert.equal(check.status, 0, check.output);
  assert.match(check.output, /SUCCESS: \d+ rules found/);
  const unit = promtool(['test', 'rules', rulesTest]);
  assert.equal(unit.status, 0, unit.output);
  assert.match(unit.output, /SUCCESS/);
});

test('every alert has a firing and a non-firing case in alerts_test.yml', () => {
  const alerts = [...fs.readFileSync(rules, 'utf8').matchAll(/^\s*- alert: (\S+)/gm)].map((m) => m[1]);
  assert.ok(alerts.length >= 5, `alerts: ${alerts}`);
  const testText = fs.readFileSync(rulesTest, 'utf8');
  for (const a of alerts) {
    // Each rule test block: "alertname: X" then its exp_alerts, either [] or a list.
    const blocks = [...testText.matchAll(new RegExp(`alertname: ${a}\\n\\s*exp_alerts:(.*)`, 'g'))].map((m) => m[1].trim());
    assert.ok(blocks.includes('[]'), `${a}: no non-firing case`);
    assert.ok(blocks.includes(''), `${a}: no firing case`);
  }
});

test('alert rules only use contract metric names', () => {
  const exprs = [...fs.readFileSync(rules, 'utf8').matchAll(/expr: (?:\|\n((?:\s{10,}.*\n)+)|(.*))/g)].map((m) => m[1] ?? m[2]);
  assert.ok(exprs.length >= 5);
  for (const e of exprs) {
    const names = metricNames(e);
    assert.ok(names.length > 0, `no metric in: ${e}`);
    for (const n of names) assert.ok(inContract(n), `alerts.yml uses ${n}, not in the metrics contract`);
  }
});

test('the Grafana dashboard is a valid JSON model over contract metric names', () => {
  const d = JSON.parse(fs.readFileSync(dashboard, 'utf8'));
  assert.equal(typeof d.title, 'string');
  assert.equal(typeof d.uid, 'string');
  assert.ok(Number.isInteger(d.schemaVersion) && d.schemaVersion >= 30);
  assert.ok(Array.isArray(d.panels) && d.panels.length >= 10);
  const ids = new Set();
  const used = new Set();
  for (const p of d.panels) {
    assert.ok(Number.isInteger(p.id) && !ids.has(p.id), `panel id ${p.id} missing or repeated`);
    ids.add(p.id);
    assert.equal(typeof p.type, 'string');
    for (const k of ['x', 'y', 'w', 'h']) assert.ok(Number.isInteger(p.gridPos?.[k]), `${p.title}: gridPos.${k}`);
    assert.ok(p.gridPos.x + p.gridPos.w <= 24, `${p.title}: wider than the grid`);
    if (p.type === 'row') continue;
    assert.ok(p.targets?.length > 0, `${p.title}: no queries`);
    const refIds = new Set(p.targets.map((t) => t.refId));
    assert.equal(refIds.size, p.targets.length, `${p.title}: repeated refId`);
    for (const t of p.targets) {
      for (const n of metricNames(t.expr)) {
        assert.ok(inContract(n), `panel "${p.title}" uses ${n}, not in the metrics contract`);
        used.add(n.replace(/_(bucket|sum|count)$/, (s) => (CONTRACT[n.slice(0, -s.length)] ? '' : s)));
      }
    }
  }
  // Templating variables the queries rely on.
  const vars = d.templating.list.map((v) => v.name);
  assert.ok(vars.includes('datasource') && vars.includes('job'));
  // Every traffic-facing contract metric appears on the dashboard.
  const missing = Object.keys(CONTRACT).filter((n) => n.startsWith('sluice_') && !used.has(n));
  assert.deepEqual(missing, [], `metrics without a panel: ${missing}`);
});

test('docs/metrics.md documents every contract metric', () => {
  const doc = fs.readFileSync(path.join(root, 'docs/metrics.md'), 'utf8');
  const missing = Object.keys(CONTRACT).filter((n) => !doc.includes(`\`${n}\``));
  assert.deepEqual(missing, []);
});

test('the metric-name extractor finds names and ignores label values and keywords', () => {
  assert.deepEqual(metricNames('sum by (model) (rate(sluice_requests_total{status_class="5xx"}[5m])) / on(job) foo_bar{x="sluice_nope"}').sort(),
    ['foo_bar', 'sluice_requests_total']);
  assert.ok(!inContract('foo_bar'));
  assert.ok(inContract('sluice_ttft_seconds_bucket'));
  assert.ok(!inContract('sluice_requests_total_bucket'));
});
