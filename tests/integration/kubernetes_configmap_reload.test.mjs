// A ConfigMap mounted as a directory is updated by the kubelet's atomic writer: the files live in a
// timestamped directory, `sluice.yaml` is a symlink to `..data/sluice.yaml`, and an update writes a new
// directory and renames a new `..data` symlink over the old one. sluice polls the config path with stat()
// (which follows the links), so the swap must read as a change even when the new file has the same size and
// modification time as the old one: only the inode differs. This rehearses exactly that, twice.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startGateway, tempDir, sleep, toYaml } from './lib/gateway.mjs';
import { startFakeUpstream } from './lib/fake_upstream.mjs';

function configText(upstreamUrl, model, ledger) {
  return toYaml({
    listen: '127.0.0.1:0',
    workers: 1,
    log_level: 'warn',
    upstreams: { fake: { base_url: upstreamUrl, api_key_env: 'FAKE_PROVIDER_KEY' } },
    models: { [model]: { upstream: 'fake' } },
    ledger: { path: ledger },
  });
}

// What the kubelet does on a ConfigMap update (pkg/volume/util/atomic_writer.go, in outline).
// `mtime` (whole seconds) pins the new file's modification time.
function atomicUpdate(dir, stamp, text, mtime) {
  const ts = path.join(dir, `..${stamp}`);
  fs.mkdirSync(ts);
  fs.writeFileSync(path.join(ts, 'sluice.yaml'), text);
  if (mtime) fs.utimesSync(path.join(ts, 'sluice.yaml'), mtime, mtime);
  const old = fs.existsSync(path.join(dir, '..data')) ? fs.readlinkSync(path.join(dir, '..data')) : null;
  fs.symlinkSync(`..${stamp}`, path.join(dir, '..data_tmp'));
  fs.renameSync(path.join(dir, '..data_tmp'), path.join(dir, '..data'));
  if (!fs.existsSync(path.join(dir, 'sluice.yaml'))) fs.symlinkSync('..data/sluice.yaml', path.join(dir, 'sluice.yaml'));
  if (old) fs.rmSync(path.join(dir, old), { recursive: true });
}

async function models(gw) {
  const r = await fetch(`${gw.url}/v1/models`);
  return (await r.json()).data.map((m) => m.id);
}

// The model list once it names `want`, or as it is after 5 s (the file is polled every second).
async function modelsOnceChanged(gw, want) {
  const until = Date.now() + 5000;
  for (;;) {
    const seen = await models(gw);
    if (seen.includes(want) || Date.now() > until) return seen;
    await sleep(100);
  }
}

test('a ConfigMap-style symlink swap reloads the config, even with equal size and mtime', { timeout: 20_000 }, async () => {
  const up = await startFakeUpstream();
  const dir = tempDir();
  const ledger = path.join(tempDir(), 'ledger.db');
  const mtime = Math.floor(Date.now() / 1000) - 60;
  atomicUpdate(dir, '2026_01_01_00_00_00.000000001', configText(up.url, 'model-aaa', ledger), mtime);
  const gw = await startGateway({ args: ['-c', path.join(dir, 'sluice.yaml')], env: { FAKE_PROVIDER_KEY: 'sk-x' } });
  try {
    assert.deepEqual(await models(gw), ['model-aaa']);
    const before = fs.statSync(path.join(dir, 'sluice.yaml'));
    atomicUpdate(dir, '2026_01_01_00_01_00.000000002', configText(up.url, 'model-bbb', ledger), mtime);
    const after = fs.statSync(path.join(dir, 'sluice.yaml'));
    assert.equal(after.size, before.size);
    assert.equal(after.mtimeMs, before.mtimeMs);
    assert.notEqual(after.ino, before.ino);
    assert.deepEqual(await modelsOnceChanged(gw, 'model-bbb'), ['model-bbb'], 'the second ConfigMap version is live');
    atomicUpdate(dir, '2026_01_01_00_02_00.000000003', configText(up.url, 'model-ccc', ledger));
    assert.deepEqual(await modelsOnceChanged(gw, 'model-ccc'), ['model-ccc'], 'and the third');
    assert.equal(fs.readdirSync(dir).filter((f) => f.startsWith('..2026')).length, 1, 'old versions are gone');
  } finally {
    await gw.kill();
    await up.close();
  }
});
