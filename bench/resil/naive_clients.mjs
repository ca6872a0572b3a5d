// N concurrent clients, each sending requests one after another, with the naive retry loop people paste
// (exponential backoff 1 s, 2 s, 4 s on any error, a fixed client timeout). Prints one JSON line:
// {requests, completed, completion_pct, attempts, p50_ms, p99_ms, mean_ms}.
// usage: node naive_clients.mjs --urls URL[,URL...] --clients 100 --requests 1000 --retries 3 --timeout 20000
import { parseArgs } from 'node:util';
import http from 'node:http';

const { values: o } = parseArgs({ options: {
  urls: { type: 'string' }, clients: { type: 'string', default: '100' }, requests: { type: 'string', default: '1000' },
  retries: { type: 'string', default: '3' }, timeout: { type: 'string', default: '20000' },
  'max-tokens': { type: 'string', default: '32' }, seed: { type: 'string', default: '1' },
} });
const urls = o.urls.split(',');
const clients = Number(o.clients), total = Number(o.requests), retries = Number(o.retries), timeout = Number(o.timeout);
const agent = new http.Agent({ keepAlive: true, maxSockets: clients * 2 });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function once(url, body) {
  return new Promise((resolve) => {
    const u = new URL('/v1/chat/completions', url);
    const req = http.request(u, { method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { data += d; });
      res.on('end', () => {
        if (res.statusCode !== 200) return resolve(false);
        try { resolve(Array.isArray(JSON.parse(data).choices)); } catch { resolve(false); }  // "Expecting value"
      });
      res.on('error', () => resolve(false));
    });
    req.setTimeout(timeout, () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(false));
    req.end(body);
  });
}

let next = 0, completed = 0, attempts = 0;
const latencies = [];
let rr = Number(o.seed);
async function client(id) {
  for (;;) {
    const i = next++;
    if (i >= total) return;
    const body = JSON.stringify({ model: 'deepseek-chat', max_tokens: Number(o['max-tokens']),
      messages: [{ role: 'user', content: `client ${id} request ${i}: summarise the plot of a long novel` }] });
    const started = Date.now();
    for (let a = 0; a <= retries; a++) {
      attempts++;
      if (await once(urls[rr++ % urls.length], body)) {
        completed++;
        latencies.push(Date.now() - started);
        break;
      }
      if (a < retries) await sleep(1000 * 2 ** a);
    }
  }
}
await Promise.all(Array.from({ length: clients }, (_, i) => client(i)));
latencies.sort((a, b) => a - b);
const q = (p) => latencies.length ? latencies[Math.min(latencies.length - 1, Math.ceil(p * latencies.length) - 1)] : null;
console.log(JSON.stringify({ requests: total, completed, completion_pct: +(100 * completed / total).toFixed(2), attempts,
  p50_ms: q(0.5), p99_ms: q(0.99), mean_ms: latencies.length ? Math.round(latencies.reduce((s, x) => s + x, 0) / latencies.length) : null }));
agent.destroy();
