// A scriptable OpenAI/DeepSeek-like upstream for gateway tests: each request's behaviour is chosen by the
// request body's "model" (e.g. "keepalive-json") or the x-test-mode header, and every request is recorded.
//
// Modes (x-test-mode): status | reset | hang | blank-only | bad-json | reset-mid | stall-mid | no-done |
// interleave | big | inband-error (a stream that ends with an error event after two chunks). Other knobs: x-test-status, x-test-retry-after, x-test-error-body (raw error body),
// x-test-echo-auth (error message quotes the Authorization header, as a careless provider might),
// x-test-keepalives, x-test-gap-ms, x-test-chunks, x-test-bytes (mode big: total content bytes, streamed
// as fast as the reader allows, honouring backpressure). Each record gets `abortedAt` (ms timestamp) when
// the client closed early, and `bytesWritten`/`finished` for mode big.
import http from 'node:http';

const completion = (model, content = 'Hello from upstream') => ({
  id: 'chatcmpl-test', object: 'chat.completion', created: 1700000000, model,
  choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 },
});

const chunk = (model, content, finish = null) => ({
  id: 'chatcmpl-test', object: 'chat.completion.chunk', created: 1700000000, model,
  choices: [{ index: 0, delta: content === null ? {} : { content }, finish_reason: finish }],
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function startFakeUpstream() {
  const requests = [];
  const aborted = [];
  const server = http.createServer(async (req, res) => {
    let body = '';
    for await (const c of req) body += c;
    let parsed = {};
    try { parsed = JSON.parse(body); } catch { /* non-JSON bodies are recorded as-is */ }
    const mode = req.headers['x-test-mode'] || '';
    const rec = { method: req.method, url: req.url, headers: req.headers, body, parsed, mode, closedEarly: false };
    requests.push(rec);
    res.on('close', () => {
      if (!res.writableFinished) { rec.closedEarly = true; rec.abortedAt = Date.now(); aborted.push(rec); }
    });
    const model = parsed.model || 'unknown';
    const stream = parsed.stream === true;

    if (req.url.endsWith('/embeddings')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ object: 'list', data: [{ object: 'embedding', index: 0, embedding: [0.1, 0.2] }],
        model, usage: { prompt_tokens: 2, total_tokens: 2 } }));
    }
    if (mode === 'status') {
      const status = Number(req.headers['x-test-status'] || 503);
      const headers = { 'content-type': 'application/json' };
      if (req.headers['x-test-retry-after']) headers['retry-after'] = req.headers['x-test-retry-after'];
      if (req.headers['x-test-error-body'] !== undefined) {
        res.writeHead(status, { ...headers, 'content-type': 'text/html' });
        return res.end(req.headers['x-test-error-body']);
      }
      res.writeHead(status, headers);
      const echo = req.headers['x-test-echo-auth'] ? ` (you sent: ${req.headers.authorization})` : '';
      return res.end(JSON.stringify({ error: { message: `upstream says ${status}${echo}`, type: 'server_error', param: null, code: null } }));
    }
    if (mode === 'reset') { req.socket.destroy(); return; }
    if (mode === 'hang') { return; /* never answers; the gateway's deadline must fire */ }
    if (!stream) {
      const keepalives = Number(req.headers['x-test-keepalives'] || 0);
      const gap = Number(req.headers['x-test-gap-ms'] || 20);
      res.writeHead(200, { 'content-type': 'application/json' });
      for (let i = 0; i < keepalives && !res.destroyed; i++) { res.write('\n'); await sleep(gap); }
      if (mode === 'blank-only') { res.end(); return; }
      if (mode === 'bad-json') { res.end('{"id": "x", '); return; }
      return res.end(JSON.stringify(completion(model)));
    }
    // Streaming.
    const n = Number(req.headers['x-test-chunks'] || 4);
    const keepalives = Number(req.headers['x-test-keepalives'] || 0);
    const gap = Number(req.headers['x-test-gap-ms'] || 5);
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    for (let i = 0; i < keepalives && !res.destroyed; i++) { res.write(': keep-alive\n\n'); await sleep(gap); }
    if (mode === 'big') {
      // A long answer produced faster than any reader: only the socket's backpressure slows it down.
      const total = Number(req.headers['x-test-bytes'] || 50 * 1024 * 1024);
      const piece = 'x'.repeat(8192);
      const event = `data: ${JSON.stringify(chunk(model, piece))}\n\n`;
      rec.bytesWritten = 0;
      rec.finished = false;
      while (rec.bytesWritten < total) {
        if (res.destroyed) return;
        rec.bytesWritten += piece.length;
        if (!res.write(event)) {
          await new Promise((r) => { res.once('drain', r); res.once('close', r); });
        }
      }
      rec.finished = true;
      res.write(`data: ${JSON.stringify(chunk(model, null, 'stop'))}\n\n`);
      return res.end('data: [DONE]\n\n');
    }
    for (let i = 0; i < n; i++) {
      if (res.destroyed) return;
      if (mode === 'reset-mid' && i === 2) { req.socket.destroy(); return; }
      if (mode === 'stall-mid' && i === 2) { return; }
      if (mode === 'inband-error' && i === 2) {
        const echo = req.headers['x-test-echo-auth'] ? ` (you sent: ${req.headers.authorization})` : '';
        res.write(`data: ${JSON.stringify({ error: { message: `overloaded${echo}`, type: 'server_error', param: null, code: null } })}\n\n`);
        return res.end();
      }
      res.write(`data: ${JSON.stringify(chunk(model, `tok${i} `))}\n\n`);
      if (mode === 'interleave') res.write(': keep-alive\n\n');
      await sleep(gap);
    }
    if (mode === 'no-done') { res.end(); return; }
    const last = chunk(model, null, 'stop');
    if (parsed.stream_options?.include_usage) {
      res.write(`data: ${JSON.stringify(last)}\n\n`);
      res.write(`data: ${JSON.stringify({ ...chunk(model, null), choices: [], usage: { prompt_tokens: 5, completion_tokens: n, total_tokens: 5 + n } })}\n\n`);
    } else {
      res.write(`data: ${JSON.stringify(last)}\n\n`);
    }
    res.end('data: [DONE]\n\n');
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  return {
    port, url: `http://127.0.0.1:${port}`, requests, aborted,
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }),
  };
}
