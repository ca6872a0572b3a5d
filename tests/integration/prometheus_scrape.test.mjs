// A real Prometheus (Debian's /usr/bin/prometheus) scrapes a running sluice every second; a query for
// sluice_requests_total returns the traffic we sent.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { startGateway, curl, tempDir, sleep } from './lib/gateway.mjs';
import { startSim } from './lib/sim.mjs';

const cleanup = [];
after(async () => { for (const f of cleanup.reverse()) await f(); });

const PROMETHEUS = process.env.PROMETHEUS_BIN || '/usr/bin/prometheus';

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function startPrometheus(target) {
  const dir = tempDir();
  const config = path.join(dir, 'prometheus.yml');
  fs.writeFileSync(config, [
    'global:',
    '  scrape_interval: 1s',
    '  evaluation_interval: 1s',
    'rule_files:',
    `  - ${JSON.stringify(path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../deploy/prometheus/alerts.yml'))}`,
    'scrape_configs:',
    '  - job_name: sluice',
    '    static_configs:',
    `      - targets: ['${target}']`,
    '',
  ].join('\n'));
  const port = await freePort();
  const proc = spawn(PROMETHEUS, [
    `--config.file=${config}`,
    `--web.listen-address=127.0.0.1:${port}`,
    `--storage.tsdb.path=${path.join(dir, 'data')}`,
    '--log.level=warn',
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr.setEncoding('utf8').on('data', (d) => { stderr = (stderr + d).slice(-8000); });
  const exited = new Promise((r) => proc.once('exit', (code, signal) => r({ code, signal })));
  cleanup.push(async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    }
  });
  return { url: `http://127.0.0.1:${port}`, proc, stderr: () => stderr, exited };
}

async function query(prom, q) {
  try {
    const r = await fetch(`${prom.url}/api/v1/query?query=${encodeURIComponent(q)}`);
    if (!r.ok) return null;
    const j = await r.json();
    return j.status === 'success' ? j.data.result : null;
  } catch {
    return null;  // not listening yet
  }
}

test('a real Prometheus scrapes sluice and a query returns data', { timeout: 60000 }, async () => {
  assert.ok(fs.existsSync(PROMETHEUS), `${PROMETHEUS} is missing: run scripts/install-deps.sh test`);
  const sim = await startSim(['--seed', '5']);
  cleanup.push(() => sim.stop());
  const gw = await startGateway({
    config: { listen: '127.0.0.1:0', workers: 1, log_level: 'error',
      upstreams: { sim: { base_url: sim.base } }, models: { 'deepseek-chat': { upstream: 'sim' } } },
  });
  cleanup.push(() => gw.stop());
  for (let i = 0; i < 5; i++) {
    const r = await curl(`${gw.url}/v1/chat/completions`, {
      body: JSON.stringify({ model: 'deepseek-chat', max_tokens: 4, messages: [{ role: 'user', content: 'hi' }] }),
    });
    assert.equal(r.status, 200, r.body);
  }
  const prom = await startPrometheus(`127.0.0.1:${gw.port}`);

  // Bounded wait (≤ 30 s): Prometheus starts, scrapes, and the sample becomes queryable.
  const q = 'sum(sluice_requests_total{job="sluice",model="deepseek-chat",upstream="sim",status_class="2xx"})';
  let result = null;
  const until = Date.now() + 30000;
  while (Date.now() < until) {
    if (prom.proc.exitCode !== null) assert.fail(`prometheus exited: ${prom.proc.exitCode}\n${prom.stderr()}`);
    result = await query(prom, q);
    if (result && result.length > 0) break;
    await sleep(250);
  }
  assert.ok(result && result.length === 1, `no data from Prometheus within 30 s; stderr:\n${prom.stderr()}`);
  assert.equal(Number(result[0].value[1]), 5);

  // The target is healthy and the alert rules loaded (and evaluate without errors).
  const targets = await (await fetch(`${prom.url}/api/v1/targets`)).json();
  const t = targets.data.activeTargets.find((x) => x.labels.job === 'sluice');
  assert.equal(t?.health, 'up', JSON.stringify(t));
  assert.equal(t.lastError, '');
  const rules = await (await fetch(`${prom.url}/api/v1/rules`)).json();
  const loaded = rules.data.groups.flatMap((g) => g.rules.map((r) => r.name));
  assert.ok(loaded.includes('SluiceTTFTP99High'), `rules: ${loaded}`);
  const build = await query(prom, 'sluice_build_info');
  assert.equal(build?.length, 1);
});
