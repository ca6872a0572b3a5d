// Child processes of a run: fixture hosts and the gateway. Each resolves once it printed its port; every
// process started here is killed when the runner exits, whatever happened.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const live = new Set();
process.on('exit', () => { for (const p of live) try { p.kill('SIGKILL'); } catch { /* gone */ } });

function waitForLine(proc, stream, re, what, timeoutMs = 10000) {
  return new Promise((resolve, reject) => {
    let buf = '';
    const t = setTimeout(() => reject(new Error(`${what} did not start within ${timeoutMs} ms:\n${buf}`)), timeoutMs);
    const onData = (d) => {
      buf += d;
      const m = re.exec(buf);
      if (m) { clearTimeout(t); stream.off('data', onData); resolve(m); }
    };
    stream.on('data', onData);
    proc.once('exit', (code, sig) => { clearTimeout(t); reject(new Error(`${what} exited (${code ?? sig}):\n${buf}`)); });
  });
}

function track(proc) {
  live.add(proc);
  proc.once('exit', () => live.delete(proc));
  return proc;
}

// One fixture host process; control(path, body?) talks to its control API.
export async function startFixture(name, { seed, key, opts = {} }) {
  const args = [path.join(HERE, '../fixture/server.mjs'), '--name', name, '--seed', String(seed), '--key', key];
  for (const [k, v] of Object.entries(opts)) args.push('--opt', `${k}=${v}`);
  const proc = track(spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] }));
  const m = await waitForLine(proc, proc.stdout, /listening on 127\.0\.0\.1:(\d+) control 127\.0\.0\.1:(\d+)/, `fixture ${name}`);
  const control = async (p, body) => {
    const r = await fetch(`http://127.0.0.1:${m[2]}${p}`, body ? { method: 'POST', body: JSON.stringify(body) } : {});
    const j = await r.json();
    if (!r.ok) throw new Error(`fixture ${name} ${p}: ${j.error}`);
    return j;
  };
  return { name, port: Number(m[1]), control, stop: () => proc.kill('SIGTERM') };
}

// `sluice serve -c FILE`; `crashed()` tells whether it exited before stop() was called.
export async function startGateway(bin, configFile, env, logFile) {
  const err = fs.openSync(logFile, 'w');
  const proc = track(spawn(bin, ['serve', '-c', configFile], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME ?? '/tmp', ...env }, stdio: ['ignore', 'ignore', 'pipe'],
  }));
  let exit = null;
  let stopping = false;
  const exited = new Promise((resolve) => proc.once('exit', (code, signal) => { exit = { code, signal }; resolve(exit); }));
  proc.stderr.on('data', (d) => fs.writeSync(err, d));
  exited.then(() => fs.closeSync(err));
  const m = await waitForLine(proc, proc.stderr, /sluice: listening on 127\.0\.0\.1:(\d+)/, 'sluice serve');
  return {
    url: `http://127.0.0.1:${m[1]}`,
    crashed: () => exit !== null && !stopping,
    exitInfo: () => exit,
    // SIGTERM, then the exit status: anything but a clean 0 after a drain is a crash.
    async stop() {
      if (exit) return exit;
      stopping = true;
      proc.kill('SIGTERM');
      const killer = setTimeout(() => proc.kill('SIGKILL'), 10000);
      const e = await exited;
      clearTimeout(killer);
      return e;
    },
  };
}
