// sluice's own control headers are checked, not guessed (X-Priority, X-Request-Timeout: 400 with `param`, before
// any upstream work), and a client that half-closes after a whole request is cancelled like one that left,
// unless `server.half_close: finish` says to answer it.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startFakeUpstream } from './lib/fake_upstream.mjs';
import { startGateway, baseConfig, curl, sleep, waitFor } from './lib/gateway.mjs';

const T = { timeout: 20_000 };
const body = JSON.stringify({ model: 'deepseek-chat', messages: [{ role: 'user', content: 'hi' }] });

describe('control headers are validated', () => {
  let up;
  let gw;
  before(async () => {
    up = await startFakeUpstream();
    gw = await startGateway({ config: baseConfig({ upstreamUrl: up.url }), env: { FAKE_PROVIDER_KEY: 'sk-x' } });
  });
  after(async () => {
    await up?.close();
    await gw?.kill();
  });
  const post = (headers) => curl(`${gw.url}/v1/chat/completions`, { body, headers });

  test('X-Priority: a class in any letter case, anything else is a 400 naming the header', T, async () => {
    const ok = await post({ 'X-Priority': ' HIGH ' });
    assert.equal(ok.status, 200, ok.body);
    assert.equal(ok.headers['x-sluice-priority'], 'high');
    const before = up.requests.length;
    for (const bad of ['abc', 'urgent', '1', 'high,low']) {
      const r = await post({ 'X-Priority': bad });
      assert.equal(r.status, 400, `${bad}: ${r.body}`);
      const e = JSON.parse(r.body).error;
      assert.equal(e.code, 'invalid_priority');
      assert.equal(e.param, 'X-Priority');
      assert.match(e.message, /high, medium or low/);
    }
    assert.equal(up.requests.length, before, 'a refused request never reaches the upstream');
  });

  test('X-Request-Timeout: a positive number of seconds, anything else is a 400', T, async () => {
    assert.equal((await post({ 'X-Request-Timeout': '2.5' })).status, 200);
    const before = up.requests.length;
    for (const bad of ['0', '-1', 'soon', '1e400', '90000', '1s']) {
      const r = await post({ 'X-Request-Timeout': bad });
      assert.equal(r.status, 400, `${bad}: ${r.body}`);
      const e = JSON.parse(r.body).error;
      assert.equal(e.code, 'invalid_request_timeout');
      assert.equal(e.param, 'X-Request-Timeout');
    }
    assert.equal(up.requests.length, before);
  });
});

// Sends a whole request, then half-closes (FIN); resolves with what came back before the server closed.
function halfClose(port, headers) {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    let data = '';
    sock.on('data', (d) => { data += d; });
    sock.on('close', () => resolve(data));
    sock.on('error', () => {});
    sock.on('connect', () => {
      sock.write([`POST /v1/chat/completions HTTP/1.1`, 'Host: x', 'Content-Type: application/json',
        ...headers, `Content-Length: ${body.length}`, '', body].join('\r\n'));
      sock.end();
    });
    setTimeout(() => sock.destroy(), 10000).unref();
  });
}

describe('half-closing clients', () => {
  let up;
  const gws = [];
  before(async () => { up = await startFakeUpstream(); });
  after(async () => {
    await up?.close();
    for (const g of gws) await g.kill();
  });
  const start = async (server) => {
    const g = await startGateway({ config: baseConfig({ upstreamUrl: up.url, server }), env: { FAKE_PROVIDER_KEY: 'sk-x' } });
    gws.push(g);
    return g;
  };
  // The upstream keeps the request waiting (keep-alive blank lines) for ~600 ms before it answers.
  const slow = ['x-test-keepalives: 6', 'x-test-gap-ms: 100'];

  test('by default a FIN cancels the request (499) and its upstream call', T, async () => {
    const g = await start(undefined);
    const seen = up.requests.length;
    const text = await halfClose(g.port, slow);
    assert.equal(text, '', 'no answer for a client that is gone');
    await waitFor(() => g.logs.some((l) => l.status === 499), 5000, 'a 499 in the access log');
    // The FIN may be seen before the upstream call starts (then none is made) or during it (then it is cut).
    await waitFor(() => up.requests.length === seen || up.requests.at(-1).closedEarly, 5000,
      'the upstream call to be cut or never made');
    assert.ok(up.requests.length <= seen + 1);
  });

  test('server.half_close: finish answers a whole request, then closes', T, async () => {
    const g = await start({ half_close: 'finish' });
    const text = await halfClose(g.port, slow);
    assert.match(text, /^HTTP\/1\.1 200/);
    assert.match(text, /Hello from upstream/);
    await sleep(100);
    assert.equal(up.requests.at(-1).closedEarly, false);
  });
});
