// TLS to upstreams: certificate verification against a configured CA, SNI, and a clear 502 when it fails.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { startGateway, baseConfig, curl, tempDir } from './lib/gateway.mjs';

let dir;
let upstream;
const seen = [];

before(async () => {
  dir = tempDir();
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2',
    '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'),
    '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost'], { stdio: 'ignore' });
  upstream = https.createServer({
    key: fs.readFileSync(path.join(dir, 'key.pem')), cert: fs.readFileSync(path.join(dir, 'cert.pem')),
  }, async (req, res) => {
    let body = '';
    for await (const c of req) body += c;
    seen.push({ servername: req.socket.servername, url: req.url, auth: req.headers.authorization, body });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ id: 'x', object: 'chat.completion', created: 1, model: JSON.parse(body).model,
      choices: [{ index: 0, message: { role: 'assistant', content: 'over tls' }, finish_reason: 'stop' }] }));
  });
  await new Promise((r) => upstream.listen(0, '127.0.0.1', r));
});

after(() => new Promise((r) => { upstream.closeAllConnections(); upstream.close(r); }));

const chat = (gw) => curl(`${gw.url}/v1/chat/completions`, {
  body: JSON.stringify({ model: 'deepseek-chat', messages: [{ role: 'user', content: 'hi' }] }),
});

test('https upstream verified with tls_ca_file, SNI sent, provider key delivered', { timeout: 20000 }, async () => {
  const { port } = upstream.address();
  const gw = await startGateway({
    config: baseConfig({ upstreams: { tls: { base_url: `https://localhost:${port}/v1`, api_key_env: 'K',
      tls_ca_file: path.join(dir, 'cert.pem') } }, models: { 'deepseek-chat': { upstream: 'tls' } } }),
    env: { K: 'sk-provider-tls' },
  });
  try {
    for (let i = 0; i < 3; i++) {  // later requests reuse the pooled TLS connection
      const r = await chat(gw);
      assert.equal(r.status, 200, r.body);
      assert.equal(r.json().choices[0].message.content, 'over tls');
    }
    assert.ok(seen.length >= 3);
    assert.equal(seen.at(-1).servername, 'localhost');
    assert.equal(seen.at(-1).url, '/v1/chat/completions');
    assert.equal(seen.at(-1).auth, 'Bearer sk-provider-tls');
  } finally {
    await gw.stop();
  }
});

test('an untrusted upstream certificate is a 502 upstream_tls_failed, not a success', { timeout: 20000 }, async () => {
  const { port } = upstream.address();
  const before = seen.length;
  const gw = await startGateway({
    config: baseConfig({ upstreams: { tls: { base_url: `https://localhost:${port}` } },
      models: { 'deepseek-chat': { upstream: 'tls' } } }),
  });
  try {
    const r = await chat(gw);
    assert.equal(r.status, 502, r.body);
    assert.equal(r.json().error.code, 'upstream_tls_failed');
    assert.equal(seen.length, before, 'no request may reach an unverified upstream');
  } finally {
    await gw.stop();
  }
});
