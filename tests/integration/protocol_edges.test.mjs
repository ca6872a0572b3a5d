// The protocol edges an outside attacker found (#29): bare-LF line ends are answered at once, not after the
// header timeout (finding 4); a request with two Host fields, an HTTP/1.1 request without Host, and a request
// that repeats a field naming the caller or steering the gateway get 400 (finding 6).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startFakeUpstream } from './lib/fake_upstream.mjs';
import { startGateway, baseConfig, rawHttp, parseRaw } from './lib/gateway.mjs';

const CLIENT_KEY = 'ck-edges-0123456789';
const ADMIN_KEY = 'admin-edges-0123456789';
const T = { timeout: 20_000 };
const BODY = JSON.stringify({ model: 'deepseek-chat', messages: [{ role: 'user', content: 'hi' }] });

// A request head from its lines, each ended by `eol`.
const head = (lines, eol = '\r\n') => lines.map((l) => l + eol).join('') + eol;
const chatHead = (extra = [], eol = '\r\n') => head(['POST /v1/chat/completions HTTP/1.1', 'Host: gw',
  `Authorization: Bearer ${CLIENT_KEY}`, 'Content-Type: application/json', `Content-Length: ${BODY.length}`, ...extra], eol);

function assertOpenAiError(res, status, pattern) {
  assert.equal(res.status, status, res.body);
  const body = JSON.parse(res.body);
  assert.equal(body.error.type, 'invalid_request_error');
  assert.match(body.error.message, pattern);
}

describe('protocol edges', () => {
  let up;
  let gw;
  before(async () => {
    up = await startFakeUpstream();
    const cfg = baseConfig({ upstreamUrl: up.url, keys: [{ name: 'c', secret_env: 'CLIENT_KEY' }] });
    cfg.admin = { key_env: 'ADMIN_KEY' };
    cfg.server = { header_timeout: '10s' };
    gw = await startGateway({ config: cfg, env: { FAKE_PROVIDER_KEY: 'sk-edges', CLIENT_KEY, ADMIN_KEY } });
  });
  after(async () => {
    await up?.close();
    await gw?.stop();
  });

  // Finding 4. Before: every request below waited the 10 s header timeout and got 408.
  test('header lines ending in a bare LF are read as line ends, at once (RFC 9112 2.2)', T, async () => {
    const r = await rawHttp(gw.port, head(['GET /healthz HTTP/1.1', 'Host: gw', 'Connection: close'], '\n'), { timeoutMs: 5000 });
    assert.ok(r.elapsedMs < 3000, `answered after ${r.elapsedMs} ms`);
    assert.equal(parseRaw(r.data).status, 200, r.data);

    const before = up.requests.length;
    const c = await rawHttp(gw.port, chatHead(['Connection: close'], '\n') + BODY, { timeoutMs: 5000 });
    assert.ok(c.elapsedMs < 3000, `answered after ${c.elapsedMs} ms`);
    assert.equal(parseRaw(c.data).status, 200, c.data);
    assert.equal(up.requests.length, before + 1);
    assert.deepEqual(up.requests.at(-1).parsed.messages, [{ role: 'user', content: 'hi' }]);
  });

  test('mixed line ends, LF-only blank lines and pipelined bare-LF requests', T, async () => {
    const mixed = 'GET /healthz HTTP/1.1\r\nHost: gw\n\r\n';
    const lfOnly = 'GET /healthz HTTP/1.1\nHost: gw\nConnection: close\n\n';
    const r = await rawHttp(gw.port, mixed + lfOnly, { timeoutMs: 5000 });
    assert.ok(r.closed && r.elapsedMs < 3000, `closed ${r.closed} after ${r.elapsedMs} ms`);
    assert.equal(r.data.match(/HTTP\/1\.1 200/g)?.length, 2, r.data);
  });

  test('a bare LF in chunked framing is refused at once (400), not read past', T, async () => {
    const h = head(['POST /v1/chat/completions HTTP/1.1', 'Host: gw', `Authorization: Bearer ${CLIENT_KEY}`,
      'Content-Type: application/json', 'Transfer-Encoding: chunked']);
    const r = await rawHttp(gw.port, `${h}${BODY.length.toString(16)}\n${BODY}\r\n0\r\n\r\n`, { timeoutMs: 5000 });
    assert.ok(r.elapsedMs < 3000, `answered after ${r.elapsedMs} ms`);
    assertOpenAiError(parseRaw(r.data), 400, /malformed HTTP request body: malformed chunked encoding/);
  });

  test('a bare CR is still refused at once', T, async () => {
    const r = await rawHttp(gw.port, 'GET /healthz HTTP/1.1\r\nHost: gw\rX: y\r\n\r\n', { timeoutMs: 5000 });
    assert.ok(r.elapsedMs < 3000);
    assertOpenAiError(parseRaw(r.data), 400, /malformed header field/);
  });

  // Finding 6. Before: 200 for each.
  test('two Host fields, an HTTP/1.1 request without Host, an invalid Host: 400 (RFC 9112 3.2)', T, async () => {
    const before = up.requests.length;
    const two = await rawHttp(gw.port, chatHead(['Host: other']) + BODY);
    assertOpenAiError(parseRaw(two.data), 400, /the Host header may appear only once/);
    const none = await rawHttp(gw.port, 'GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n');
    assertOpenAiError(parseRaw(none.data), 400, /an HTTP\/1\.1 request needs a Host header/);
    const bad = await rawHttp(gw.port, 'GET /healthz HTTP/1.1\r\nHost: a b/c\r\nConnection: close\r\n\r\n');
    assertOpenAiError(parseRaw(bad.data), 400, /invalid Host header/);
    const old = await rawHttp(gw.port, 'GET /healthz HTTP/1.0\r\n\r\n');
    assert.equal(parseRaw(old.data).status, 200, 'HTTP/1.0 needs no Host');
    assert.equal(up.requests.length, before, 'nothing reached the upstream');
  });

  test('a repeated Authorization, admin key, Content-Type, X-Priority or X-Request-Timeout: 400 naming it', T, async () => {
    const before = up.requests.length;
    for (const [name, value] of [['Authorization', `Bearer ${CLIENT_KEY}`], ['authorization', 'Bearer other'],
      ['Content-Type', 'application/json'], ['X-Priority', 'high'], ['X-Request-Timeout', '5'],
      ['x-sluice-admin-key', ADMIN_KEY]]) {
      // chatHead sends Authorization and Content-Type once already; the others are sent twice here.
      const once = /^(authorization|content-type)$/i.test(name);
      const extra = once ? [`${name}: ${value}`] : [`${name}: ${value}`, `${name}: ${value}`];
      const r = await rawHttp(gw.port, chatHead(extra) + BODY);
      assertOpenAiError(parseRaw(r.data), 400, new RegExp(`the ${name} header may appear only once`));
      assert.ok(!r.data.includes(CLIENT_KEY) && !r.data.includes(ADMIN_KEY), 'the answer quotes no credential');
    }
    const admin = await rawHttp(gw.port, head(['GET /admin/upstreams HTTP/1.1', 'Host: gw', `x-sluice-admin-key: ${ADMIN_KEY}`,
      `X-Sluice-Admin-Key: ${ADMIN_KEY}`]));
    assertOpenAiError(parseRaw(admin.data), 400, /the X-Sluice-Admin-Key header may appear only once/);
    assert.equal(up.requests.length, before, 'nothing reached the upstream');
    // Once each is fine.
    const ok = await rawHttp(gw.port, chatHead(['X-Priority: high', 'X-Request-Timeout: 5', 'Connection: close']) + BODY);
    assert.equal(parseRaw(ok.data).status, 200, ok.data);
  });
});

// The response side: an upstream whose head uses bare LF line ends is understood (RFC 9112 2.2), not taken
// for a head that never ends.
describe('an upstream answering with bare LF line ends', () => {
  let server;
  let gw;
  before(async () => {
    server = net.createServer((sock) => {
      let got = '';
      sock.on('data', (d) => {
        got += d;
        const end = got.indexOf('\r\n\r\n');
        if (end < 0) return;
        const len = Number(/content-length: (\d+)/i.exec(got)?.[1] || 0);
        if (got.length < end + 4 + len) return;
        const body = JSON.stringify({ id: 'x', object: 'chat.completion', created: 1, model: 'deepseek-chat',
          choices: [{ index: 0, message: { role: 'assistant', content: 'lf only' }, finish_reason: 'stop' }],
          usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 } });
        sock.end(`HTTP/1.1 200 OK\nContent-Type: application/json\nContent-Length: ${body.length}\n\n${body}`);
      });
      sock.on('error', () => {});
    });
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    const cfg = baseConfig({ upstreamUrl: `http://127.0.0.1:${server.address().port}`, timeouts: { first_token: '8s' } });
    gw = await startGateway({ config: cfg, env: { FAKE_PROVIDER_KEY: 'sk-edges' } });
  });
  after(async () => {
    await gw?.stop();
    await new Promise((r) => server?.close(r));
  });

  test('its answer is relayed at once', T, async () => {
    const started = Date.now();
    const r = await rawHttp(gw.port, `POST /v1/chat/completions HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\n`
      + `Content-Length: ${BODY.length}\r\nConnection: close\r\n\r\n${BODY}`, { timeoutMs: 10000 });
    const res = parseRaw(r.data);
    assert.equal(res.status, 200, r.data);
    assert.match(res.body, /lf only/);
    assert.ok(Date.now() - started < 4000);
  });
});
