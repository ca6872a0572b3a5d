// Opens N streaming chat completions at once and holds them until they end or it is told to stop (SIGTERM): the
// upstream keeps them waiting for their first token (bench/memory/streams_rss.sh watches the gateway meanwhile).
// Prints one JSON line when they all ended.
// Usage: node bench/memory/hold_streams.mjs http://127.0.0.1:PORT N
import http from 'node:http';

const [base, nArg = '10000'] = process.argv.slice(2);
const n = Number(nArg);
const url = new URL('/v1/chat/completions', base);
const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
const body = JSON.stringify({ model: 'deepseek-chat', stream: true, max_tokens: 4, messages: [{ role: 'user', content: 'hold' }] });
let ended = 0, failed = 0;
const reqs = [];
const done = new Promise((resolveAll) => {
  for (let i = 0; i < n; i++) {
    const req = http.request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (res) => {
      res.on('data', () => {});
      res.on('end', () => { if (++ended + failed === n) resolveAll(); });
      res.on('error', () => { if (ended + ++failed === n) resolveAll(); });
    });
    req.on('error', () => { if (ended + ++failed === n) resolveAll(); });
    req.end(body);
    reqs.push(req);
  }
});
const stop = () => { for (const r of reqs) r.destroy(); };
process.on('SIGTERM', stop);
await Promise.race([done, new Promise((r) => setTimeout(r, 600000))]);
console.log(JSON.stringify({ event: 'ended', ok: ended, failed }));
process.exit(0);
