// A real redis-server for integration tests: a free loopback port, a temporary directory, no persistence.
// kill9() and start() again on the same port rehearse a Redis crash; stop() is called by the tests' after().
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const live = new Set();
process.on('exit', () => { for (const p of live) { try { p.kill('SIGKILL'); } catch { /* gone */ } } });

export const redisAvailable = () => spawnSync('redis-server', ['--version']).status === 0;

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

function ping(port) {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    const done = (ok) => { sock.destroy(); resolve(ok); };
    sock.setTimeout(200, () => done(false));
    sock.on('error', () => done(false));
    sock.on('connect', () => sock.write('PING\r\n'));
    sock.on('data', (d) => done(d.toString().startsWith('+PONG')));
  });
}

export async function startRedis() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-redis-'));
  const port = await freePort();
  const r = { port, dir, proc: null, address: `127.0.0.1:${port}` };
  r.start = async () => {
    const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '',
      '--appendonly', 'no', '--loglevel', 'warning'], { stdio: 'ignore' });
    live.add(proc);
    proc.on('exit', () => live.delete(proc));
    r.proc = proc;
    for (let i = 0; i < 500; i++) {
      if (await ping(port)) return;
      await sleep(10);
    }
    throw new Error(`redis-server did not start on port ${port}`);
  };
  r.kill9 = async () => {
    if (!r.proc || r.proc.exitCode !== null || r.proc.signalCode !== null) return;
    const exited = new Promise((res) => r.proc.once('exit', res));
    r.proc.kill('SIGKILL');
    await exited;
  };
  r.stop = async () => { await r.kill9(); fs.rmSync(dir, { recursive: true, force: true }); };
  r.cli = (...args) => spawnSync('redis-cli', ['-p', String(port), ...args], { encoding: 'utf8' }).stdout.trim();
  await r.start();
  return r;
}
