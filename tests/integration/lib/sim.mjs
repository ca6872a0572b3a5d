// Helpers for tests that drive `sluice sim`: spawn on port 0, parse the port, talk curl, stop cleanly.
import { spawn, execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const SLUICE_BIN = process.env.SLUICE_BIN ?? path.resolve(here, '../../../build/sluice');

// Starts `sluice sim --port 0 ...args`; resolves once the "listening on" line is printed.
export function startSim(args = [], { timeoutMs = 10000 } = {}) {
  return new Promise((resolve, reject) => {
    const proc = spawn(SLUICE_BIN, ['sim', '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`sim did not start in ${timeoutMs} ms: ${stderr}`));
    }, timeoutMs);
    const exited = new Promise((res) => proc.once('exit', (code, signal) => res({ code, signal })));
    proc.stderr.on('data', (d) => {
      stderr += d.toString();
      const m = /listening on ([\d.]+):(\d+)/.exec(stderr);
      if (m && timer) {
        clearTimeout(timer);
        const port = Number(m[2]);
        resolve({
          proc, port, host: m[1], base: `http://${m[1]}:${port}`, exited,
          stderr: () => stderr,
          async stop(signal = 'SIGTERM') {
            if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
            return exited;
          },
        });
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`sim exited with ${code}: ${stderr}`));
    });
  });
}

// Runs a sim with the given args expecting it to fail at start-up; resolves {code, stderr}.
export function simStartFailure(args, timeoutMs = 5000) {
  return new Promise((resolve) => {
    execFile(SLUICE_BIN, ['sim', '--port', '0', ...args], { timeout: timeoutMs }, (err, stdout, stderr) => {
      resolve({ code: err ? err.code : 0, stderr });
    });
  });
}

// curl with its exit code; the body is kept byte-exact (latin1).
export function curl(args, timeoutMs = 10000) {
  return new Promise((resolve) => {
    execFile('curl', ['-sS', ...args], { timeout: timeoutMs, encoding: 'latin1', maxBuffer: 64 << 20 },
      (err, stdout, stderr) => resolve({ code: err ? (err.code ?? 'killed') : 0, stdout, stderr }));
  });
}

export async function simStats(sim) {
  const r = await fetch(`${sim.base}/sim/stats`);
  return r.json();
}

export const chatBody = (extra = {}) => JSON.stringify({
  model: 'deepseek-chat', messages: [{ role: 'user', content: 'Hello there' }], ...extra,
});

// Writes a one-phase scenario file (`defaults:` from the object, optional `faults:`) into `dir`; returns its path.
export function writeScenario(dir, name, defaults, faults = {}) {
  const lines = Object.entries(defaults).map(([k, v]) => `  ${k}: ${v}`);
  if (Object.keys(faults).length) {
    lines.push('  faults:', ...Object.entries(faults).map(([k, v]) => `    ${k}: ${v}`));
  }
  const file = path.join(dir, `${name}.yaml`);
  fs.writeFileSync(file, `name: ${name}\ndefaults:\n${lines.join('\n')}\n`);
  return file;
}
