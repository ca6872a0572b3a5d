// Holds N concurrent slow streams against `sluice sim` and reports how many completed and how fast.
// Usage: node bench/sim/streams.mjs http://127.0.0.1:PORT [N=5000] [tokens=20]
// (start the sim with e.g. --itl 100ms --ttft 0 --slots 100000 so each stream lasts ~tokens*100ms)
import http from 'node:http';

const [base, nArg = '5000', tokArg = '20'] = process.argv.slice(2);
const n = Number(nArg);
const tokens = Number(tokArg);
const url = new URL('/v1/chat/completions', base);
const agent = new http.Agent({ keepAlive: true, maxSockets: n });
const body = JSON.stringify({ model: 'deepseek-chat', stream: true, max_tokens: tokens, messages: [{ role: 'user', content: 'hi' }] });
let ok = 0, failed = 0, chunks = 0, peak = 0, open = 0;
const t0 = Date.now();
await Promise.all(Array.from({ length: n }, () => new Promise((resolve) => {
  const req = http.request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json' }, timeout: 120000 }, (res) => {
    open++; peak = Math.max(peak, open);
    let tail = '';
    res.on('data', (d) => { chunks++; tail = (tail + d.toString()).slice(-20); });
    res.on('end', () => { open--; if (tail.includes('[DONE]')) ok++; else failed++; resolve(); });
    res.on('error', () => { open--; failed++; resolve(); });
  });
  req.on('error', () => { failed++; resolve(); });
  req.end(body);
})));
const secs = (Date.now() - t0) / 1000;
console.log(JSON.stringify({ streams: n, ok, failed, peak_concurrent: peak, chunks_received: chunks, seconds: secs }));
agent.destroy();
