// Helpers for the admin API / hot reload / dashboard tests: start sluice with an admin section and find
// the admin listener's port (printed as "sluice: admin listening on HOST:PORT" before the main line).
import fs from 'node:fs';
import path from 'node:path';
import { startGateway, curl, tempDir } from './gateway.mjs';
import { startSim } from './sim.mjs';

export async function startAdminGateway(opts) {
  const gw = await startGateway(opts);
  const m = /sluice: admin listening on (\S+):(\d+)/.exec(gw.stderr);
  if (m) gw.adminUrl = `http://127.0.0.1:${m[2]}`;
  return gw;
}

// An admin call; `key` (if given) goes in the Authorization header.
export function admin(base, path, { method = 'GET', key, timeoutMs = 10000 } = {}) {
  const headers = key ? { Authorization: `Bearer ${key}` } : {};
  return curl(`${base}${path}`, { method, headers, timeoutMs });
}

export const chatBody = (model = 'deepseek-chat', extra = {}) =>
  JSON.stringify({ model, max_tokens: 4, messages: [{ role: 'user', content: 'hello' }], ...extra });

// Starts `sluice sim` with a one-off scenario file built from `defaults` ({ttft: '1ms', ...}); registers its stop.
export async function scenarioSim(name, defaults, cleanup, extraArgs = []) {
  const file = path.join(tempDir(), `${name}.yaml`);
  const lines = Object.entries(defaults).map(([k, v]) => `  ${k}: ${v}`).join('\n');
  fs.writeFileSync(file, `name: ${name}\ndefaults:\n${lines}\n`);
  const s = await startSim(['--seed', '7', '--scenario', file, ...extraArgs]);
  cleanup.push(() => s.stop());
  return s;
}
