// The rollout rehearsal in its short form (`bench/rollout.sh --quick`, ~45 s): 3 replicas behind HAProxy
// (health checks on /readyz, no retries) under stream and non-stream load, replaced one by one the way a
// rolling update does it: no request fails, no stream is cut, every old replica exits 0; then a 3x load step
// makes the summed sluice_pending_work rise, and it falls back to 0 after the step.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SLUICE_BIN, tempDir } from './lib/gateway.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

test('rolling restart behind HAProxy drops nothing; the scaling gauge follows a 3x load step', { timeout: 150_000 }, async () => {
  const dir = tempDir();
  const json = path.join(dir, 'rollout.json');
  const proc = spawn(path.join(root, 'bench/rollout.sh'), ['--quick', '--json', json], {
    env: { ...process.env, SLUICE_BIN: path.resolve(SLUICE_BIN), OUT_DIR: path.join(dir, 'out') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  proc.stdout.on('data', (d) => { output += d; });
  proc.stderr.on('data', (d) => { output += d; });
  const killer = setTimeout(() => proc.kill('SIGTERM'), 140_000);
  const code = await new Promise((r) => proc.on('exit', (c) => r(c)));
  clearTimeout(killer);
  assert.equal(code, 0, output);
  const r = JSON.parse(fs.readFileSync(json, 'utf8'));
  for (const [name, ok] of Object.entries(r.checks)) assert.ok(ok, `${name}\n${output}`);
  // The checks, spelt out: the figures behind them.
  assert.equal(r.rollout.replicas.length, 3);
  assert.ok(r.rollout.nonstream.requests > 50 && r.rollout.stream.requests > 20, JSON.stringify(r.rollout));
  assert.equal(r.rollout.nonstream.failed + r.rollout.stream.failed, 0);
  for (const rep of r.rollout.replicas) {
    assert.deepEqual([rep.exit_code, rep.cut], [0, 0]);
    assert.ok(rep.unready_ms < 1500, `HAProxy took the replica out within the shutdown delay: ${rep.unready_ms} ms`);
  }
  assert.ok(r.step.pending_during.max > r.step.pending_before.max);
  assert.equal(r.step.pending_final, 0);
});
