// An `outage: refuse` phase makes the sim's port refuse connections, and listening resumes afterwards.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { startSim, curl, chatBody } from './lib/sim.mjs';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sim-refuse-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

const connect = (port) => new Promise((resolve) => {
  const s = net.connect(port, '127.0.0.1');
  s.once('connect', () => { s.destroy(); resolve('connected'); });
  s.once('error', (e) => resolve(e.code));
});

test('the port refuses connections during a refuse outage, then serves again', { timeout: 20000 }, async () => {
  const file = path.join(dir, 'refuse.yaml');
  fs.writeFileSync(file, [
    'name: refuse-then-healthy',
    'defaults: {ttft: 1ms, itl: 0ms}',
    'phases:',
    '  - {name: down, duration: 1500ms, outage: refuse}',
    '  - {name: up}',
    '',
  ].join('\n'));
  const sim = await startSim(['--scenario', file]);
  try {
    const deadline = Date.now() + 1000;
    let refused = false;
    while (Date.now() < deadline && !refused) {
      refused = (await connect(sim.port)) === 'ECONNREFUSED';
    }
    assert.ok(refused, 'connections are refused during the outage');
    await new Promise((r) => setTimeout(r, 1700));
    assert.equal(await connect(sim.port), 'connected');
    const r = await curl(['-o', '/dev/null', '-w', '%{http_code}', '-H', 'content-type: application/json',
      '-d', chatBody({ max_tokens: 2 }), `${sim.base}/v1/chat/completions`]);
    assert.equal(r.stdout, '200');
  } finally {
    assert.equal((await sim.stop()).code, 0);
  }
});
