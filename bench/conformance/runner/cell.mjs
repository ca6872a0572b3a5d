// One cell of the scorecard: a fault class at a rate on every fixture host, a fresh gateway, `requests`
// requests from `concurrency` SDK clients (every other one streamed), then the fixtures' and the gateway's
// own records of each request joined to the client's verdicts.
import fs from 'node:fs';
import path from 'node:path';
import { expectedAnswer } from '../fixture/answer.mjs';
import { send, remarks } from './client.mjs';
import { gatewayEnv, gatewayYaml } from './gateway_config.mjs';
import { startGateway } from './procs.mjs';

export const CLIENT_DEADLINE_MS = 30000;  // above the gateway's request_timeout (20 s): a miss is a hang

function requestsOf(cell, n, seed) {
  return Array.from({ length: n }, (_, i) => {
    const messages = [
      { role: 'system', content: 'You are a terse assistant.' },
      { role: 'user', content: `Seed ${seed}, ${cell.name}, request ${i}: describe a landscape.` },
    ];
    const stream = i % 2 === 1;
    const maxTokens = i % 3 === 0 ? 8 + (i % 13) : undefined;  // a third are cut by max_tokens ("length")
    return {
      rid: `${cell.name}-${i}`, stream, includeUsage: stream && i % 4 === 1, maxTokens, messages,
      want: expectedAnswer(messages, maxTokens),
    };
  });
}

function readAccessLog(file) {
  const byId = new Map();
  if (!fs.existsSync(file)) return byId;
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      const e = JSON.parse(line);
      byId.set(e.id, e);
    } catch { /* a torn last line of a crashed gateway */ }
  }
  return byId;
}

export async function runCell({ cell, fixtures, bin, tmp, requests, concurrency, seed }) {
  const faults = cell.rate > 0 ? { [cell.cls]: cell.rate } : {};
  await Promise.all(fixtures.map((f) => f.control('/config', { faults, seed })));
  const accessLog = path.join(tmp, `${cell.name}.access.jsonl`);
  const configFile = path.join(tmp, `${cell.name}.yaml`);
  fs.writeFileSync(configFile, gatewayYaml({ ports: fixtures.map((f) => f.port), accessLog, hedge: cell.hedge, maxAttempts: cell.maxAttempts, maxResumes: cell.maxResumes }));
  const gw = await startGateway(bin, configFile, gatewayEnv(fixtures.length), path.join(tmp, `${cell.name}.stderr`));
  const reqs = requestsOf(cell, requests, seed);
  const outcomes = new Array(reqs.length);
  let next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < reqs.length) {
      const i = next++;
      outcomes[i] = await send(`${gw.url}/v1`, reqs[i], CLIENT_DEADLINE_MS);
    }
  }));
  const wallMs = performance.now() - t0;
  const crashedDuringRun = gw.crashed();
  const exit = await gw.stop();
  const stats = await Promise.all(fixtures.map((f) => f.control('/stats')));
  const access = readAccessLog(accessLog);
  for (const [i, o] of outcomes.entries()) {
    o.attempts = 0;
    o.resumes = 0;
    for (const s of stats) {
      const b = s.by_request[o.rid];
      if (b) { o.attempts += b.attempts; o.resumes += b.prefix; o.faults = [...(o.faults ?? []), ...b.faults]; }
    }
    const a = access.get(o.rid);
    o.gwAttempts = a?.attempts ?? null;
    o.gwFailure = a?.failure ? `${a.failure}${a.detail ? `: ${a.detail}` : ''}` : null;
    o.remarks = remarks(o, reqs[i]);
  }
  const stderrTail = fs.readFileSync(path.join(tmp, `${cell.name}.stderr`), 'utf8').split('\n').slice(-20).join('\n');
  return {
    cell, wallMs, outcomes, fixtureStats: stats.map(({ by_request: _, ...rest }) => rest),
    crash: crashedDuringRun || !(exit.code === 0 && exit.signal === null) ? { exit, stderrTail } : null,
  };
}
