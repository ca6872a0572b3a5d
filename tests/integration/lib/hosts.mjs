// Upstream stand-ins shared by routing and metrics tests: a sim scenario file from a few defaults, and a host
// that accepts TCP connections and drops them at once (counting how often the gateway tried it).
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { tempDir } from './gateway.mjs';

export function scenarioFile(name, defaults) {
  const file = path.join(tempDir(), `${name}.yaml`);
  fs.writeFileSync(file, `name: ${name}\ndefaults:\n${Object.entries(defaults).map(([k, v]) => `  ${k}: ${v}`).join('\n')}\n`);
  return file;
}

export async function startDeadHost() {
  const h = { connections: 0 };
  h.server = net.createServer((sock) => { h.connections++; sock.destroy(); });
  await new Promise((r) => h.server.listen(0, '127.0.0.1', r));
  h.port = h.server.address().port;
  h.close = () => new Promise((r) => h.server.close(r));
  return h;
}
