// Connections and the process over time: clients that leave (the upstream must be cancelled at once),
// slow-loris clients, slow readers (bounded memory), SIGTERM drain, and the CLI (`check`, --version, --help).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { startFakeUpstream } from './lib/fake_upstream.mjs';
import {
  startGateway, baseConfig, curl, httpRequest, rawHttp, parseRaw, parseSse, runSluice, tempDir, sleep, waitFor, after as timeout,
} from './lib/gateway.mjs';

const PROVIDER_KEY = 'sk-provider-LIFECYCLE-55aa';
const chat = (extra = {}) => JSON.stringify({ model: 'deepseek-chat', messages: [{ role: 'user', content: 'hi' }], ...extra });

// Polls until the fake upstream saw the request with this id closed by the gateway; returns the record.
async function upstreamAbort(up, id, withinMs) {
  const until = Date.now() + withinMs;
  for (;;) {
    const rec = up.requests.find((r) => r.headers['x-request-id'] === id);
    if (rec?.closedEarly) return rec;
    if (Date.now() > until) return null;
    await sleep(10);
  }
}

describe('gateway lifecycle: clients that leave, slow clients', () => {
  let up;
  let gw;

  before(async () => {
    up = await startFakeUpstream();
    gw = await startGateway({
      config: baseConfig({
        upstreamUrl: up.url,
        timeouts: { first_token: '15s', idle: '15s', total: '30s' },
        server: { header_timeout: '700ms', body_timeout: '700ms' },
      }),
      env: { FAKE_PROVIDER_KEY: PROVIDER_KEY },
    });
  });

  after(async () => {
    await up?.close();
    await gw?.kill(); // last: it throws if the gateway crashed during the tests
  });

  test('client disconnect mid-stream cancels the upstream request within 1 s', { timeout: 10_000 }, async () => {
    const id = 'gone-mid-stream';
    let got = '';
    const r = await httpRequest(`${gw.url}/v1/chat/completions`, {
      body: chat({ stream: true }),
      headers: { 'x-request-id': id, 'x-test-chunks': '500', 'x-test-gap-ms': '20' },
      onData: (text, ctl) => { got += text; if (got.includes('tok1')) ctl.abort(); },
    });
    assert.equal(r.status, 200);
    assert.ok(r.aborted, 'the client hung up');
    assert.ok(r.body.includes('tok0'));
    const rec = await upstreamAbort(up, id, 1500);
    assert.ok(rec, 'the upstream never saw the request cancelled');
    assert.ok(rec.abortedAt - r.abortedAt < 1000, `cancelled ${rec.abortedAt - r.abortedAt} ms after the client left`);
    assert.ok(up.requests.length > 0 && !rec.finished);
    const log = await gw.logFor(id);
    assert.equal(log.failure, 'client_gone');
    assert.equal(log.stream, true);
  });

  for (const stream of [true, false]) {
    test(`client disconnect while the upstream queues with keep-alives (${stream ? 'stream' : 'non-stream'}) cancels it within 1 s`,
      { timeout: 10_000 }, async () => {
        const id = `gone-queued-${stream ? 's' : 'j'}`;
        const r = await httpRequest(`${gw.url}/v1/chat/completions`, {
          body: chat({ stream }),
          headers: { 'x-request-id': id, 'x-test-keepalives': '500', 'x-test-gap-ms': '20' },
          timeoutMs: 400, // the client hangs up after 400 ms of nothing
        });
        const abortedAt = Date.now();
        assert.match(String(r.error), /timed out/, 'the client saw nothing but waiting');
        assert.equal(r.status, 0, 'no response may start while the upstream only sends keep-alives');
        const rec = await upstreamAbort(up, id, 1000);
        assert.ok(rec, 'the upstream request was not cancelled within 1 s of the client leaving');
        assert.ok(rec.abortedAt - abortedAt < 1000, `cancelled ${rec.abortedAt - abortedAt} ms after the client left`);
        const log = await gw.logFor(id);
        assert.equal(log.status, 499);
        assert.equal(log.failure, 'client_gone');
      });
  }

  // The request records of the three tests above: the attempt's measurements must survive the client leaving
  // (an operator wants to see that a client gave up after N keep-alives, or after the first token).
  test('the access log of an abandoned request keeps what was measured (ttft, keep-alives)', { timeout: 5_000 }, async () => {
    const mid = await gw.logFor('gone-mid-stream');
    assert.equal(typeof mid.ttft_ms, 'number', `a stream abandoned after its first tokens logs ttft_ms: ${JSON.stringify(mid)}`);
    for (const id of ['gone-queued-s', 'gone-queued-j']) {
      const l = await gw.logFor(id);
      assert.ok(l.keepalives >= 5, `${id}: the upstream sent ~20 keep-alives before the client left; logged ${l.keepalives}`);
    }
  });

  const HALF_HEADER = 'POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: appl';
  const HALF_BODY = 'POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"model":';

  test('slow-loris: half a request header is closed after header_timeout', { timeout: 10_000 }, async () => {
    const r = await rawHttp(gw.port, HALF_HEADER, { timeoutMs: 5000 });
    assert.ok(r.connected && r.closed, 'the connection must be closed by the gateway');
    assert.ok(r.elapsedMs >= 600 && r.elapsedMs < 2500, `closed after ${r.elapsedMs} ms (header_timeout 700 ms)`);
    if (r.data) assert.equal(parseRaw(r.data).status, 408, r.data);
  });

  test('slow-loris: a header trickled byte by byte is closed after header_timeout too', { timeout: 10_000 }, async () => {
    const steps = [];
    const text = `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nX-Slow: ${'a'.repeat(100)}\r\n\r\n`;
    for (const ch of text) steps.push([60, ch]);
    const r = await rawHttp(gw.port, steps, { timeoutMs: 6000 });
    assert.ok(r.connected && r.closed, 'connected, then closed by the gateway');
    assert.ok(r.elapsedMs >= 600 && r.elapsedMs < 2500, `a trickling client held the connection for ${r.elapsedMs} ms`);
    if (r.data) assert.equal(parseRaw(r.data).status, 408, r.data);
  });

  test('a connection that sends nothing is closed after header_timeout', { timeout: 10_000 }, async () => {
    const r = await rawHttp(gw.port, '', { timeoutMs: 5000 });
    assert.ok(r.connected && r.closed, 'connected, then closed by the gateway');
    assert.ok(r.elapsedMs >= 600 && r.elapsedMs < 2500, `closed after ${r.elapsedMs} ms`);
  });

  test('a request body that stops arriving is closed after body_timeout', { timeout: 10_000 }, async () => {
    const r = await rawHttp(gw.port, HALF_BODY, { timeoutMs: 5000 });
    assert.ok(r.connected && r.closed, 'connected, then closed by the gateway');
    assert.ok(r.elapsedMs >= 600 && r.elapsedMs < 2500, `after ${r.elapsedMs} ms`);
    assert.equal((await curl(`${gw.url}/healthz`)).status, 200, 'still serving');
  });

  // session.cc answers a header/body timeout with an OpenAI-shaped 408 before closing, so a legitimate but
  // slow client learns why it was cut off. That answer has to actually reach the client.
  test('a timed-out request header or body is answered with 408 request_timeout before the close', { timeout: 10_000 }, async () => {
    const [h, b] = await Promise.all([rawHttp(gw.port, HALF_HEADER), rawHttp(gw.port, HALF_BODY)]);
    for (const [what, r] of [['header', h], ['body', b]]) {
      const p = parseRaw(r.data);
      assert.equal(p.status, 408, `${what} timeout: the gateway closed after ${r.elapsedMs} ms without an answer (got ${JSON.stringify(r.data)})`);
      assert.equal(JSON.parse(p.body).error.code, 'request_timeout');
    }
  });

  test('a slow reader of a 50 MB stream does not make the gateway buffer it (bounded RSS)', { timeout: 30_000 }, async (t) => {
    // Warm up the code paths and allocator, then take the baseline.
    const warm = await curl(`${gw.url}/v1/chat/completions`, { body: chat({ stream: true }), headers: { 'x-test-mode': 'big', 'x-test-bytes': String(2 << 20) } });
    assert.equal(warm.status, 200);
    const base = gw.rssKb();
    const id = 'slow-reader';
    const total = 50 * 1024 * 1024;
    const sock = net.connect(gw.port, '127.0.0.1');
    sock.on('error', () => {});
    t.after(() => sock.destroy());
    await new Promise((r) => sock.once('connect', r));
    const body = chat({ stream: true });
    sock.write(`POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n`
      + `x-request-id: ${id}\r\nx-test-mode: big\r\nx-test-bytes: ${total}\r\n\r\n${body}`);
    let received = 0;
    let tail = '';
    sock.on('data', (d) => { received += d.length; tail = (tail + d.toString('latin1')).slice(-200); });
    // Read the first bytes, then stop reading for 2 s: a reader that is far slower than the upstream.
    await waitFor(() => received > 0, 5000, 'the first bytes of the stream');
    sock.pause();
    let peak = 0;
    for (let i = 0; i < 20; i++) {
      await sleep(100);
      peak = Math.max(peak, gw.rssKb());
    }
    const rec = up.requests.find((q) => q.headers['x-request-id'] === id);
    const stalledAt = rec.bytesWritten;
    await sleep(300);
    // What the kernel may hold between a paused reader and the upstream: both connections' receive and send
    // buffers, which autotune up to the tcp_rmem / tcp_wmem maxima (32 MiB receive buffers on some hosts).
    // Anything beyond that (plus 8 MiB of slack) was buffered by the gateway.
    const maxOf = (f) => Number(fs.readFileSync(`/proc/sys/net/ipv4/${f}`, 'utf8').trim().split(/\s+/)[2]);
    const kernelMay = 2 * maxOf('tcp_rmem') + 2 * maxOf('tcp_wmem') + (8 << 20);
    if (kernelMay < total) {
      assert.ok(rec.bytesWritten < kernelMay, `the upstream could write ${rec.bytesWritten} bytes past a paused client`);
    } else {
      t.diagnostic(`socket buffers may hold ${kernelMay} bytes here: the RSS and stall checks stand alone`);
    }
    assert.ok(rec.bytesWritten - stalledAt < 1 << 20, 'backpressure reaches the upstream while the client does not read');
    const limitKb = (gw.sanitized() ? 200 : 8) * 1024;  // a release build grows by ~0.3 MiB here
    t.diagnostic(`RSS base ${base} KiB, peak while paused ${peak} KiB; upstream wrote ${rec.bytesWritten} of ${total} bytes`);
    assert.ok(peak - base < limitKb, `RSS grew by ${peak - base} KiB while the client was paused`);
    // Now read everything: the stream completes intact.
    sock.resume();
    await waitFor(() => tail.includes('data: [DONE]'), 20_000, 'the end of the 50 MB stream');
    sock.destroy();
    assert.ok(received > total, `received ${received} bytes`);
    assert.ok(tail.includes('data: [DONE]\n\n'), tail);
    assert.ok(rec.finished, 'the upstream completed the answer');
    assert.ok(gw.rssKb() - base < limitKb);
  });
});

// The wait for a connection's next request has its own deadline, re-armed lazily (client_watch.h): the first
// wait is bounded by header_timeout, later ones by keepalive_timeout, whichever order they come in.
describe('gateway lifecycle: keep-alive idle connections', () => {
  let gw;
  before(async () => {
    gw = await startGateway({
      config: baseConfig({ upstreamUrl: 'http://127.0.0.1:9', server: { header_timeout: '700ms', keepalive_timeout: '1500ms' } }),
    });
  });
  after(async () => { await gw?.kill(); });

  test('an idle keep-alive connection is served past header_timeout and closed after keepalive_timeout', { timeout: 10_000 }, async () => {
    const get = 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n';
    // The second request comes 1 s after the first: past header_timeout, within keepalive_timeout.
    const r = await rawHttp(gw.port, [[0, get], [1000, get]], { timeoutMs: 6000 });
    assert.ok(r.connected && r.closed, `the gateway must close the idle connection (got ${JSON.stringify(r.data)})`);
    assert.equal(r.data.match(/HTTP\/1\.1 200 /g)?.length, 2, `both requests answered on one connection: ${r.data}`);
    // Closed keepalive_timeout after the second answer (~2.5 s), not header_timeout after it (~1.7 s).
    assert.ok(r.elapsedMs >= 2300 && r.elapsedMs < 4000, `closed after ${r.elapsedMs} ms`);
  });

  test('a connection that never sends a request is still closed after header_timeout', { timeout: 10_000 }, async () => {
    const r = await rawHttp(gw.port, '', { timeoutMs: 5000 });
    assert.ok(r.connected && r.closed);
    assert.ok(r.elapsedMs >= 600 && r.elapsedMs < 1400, `closed after ${r.elapsedMs} ms (header_timeout 700 ms)`);
  });
});

describe('gateway lifecycle: SIGTERM', () => {
  let up;
  before(async () => { up = await startFakeUpstream(); });
  after(async () => { await up?.close(); });

  test('SIGTERM drains: the in-flight stream finishes, new connections are refused, exit code 0', { timeout: 15_000 }, async (t) => {
    const gw = await startGateway({
      config: baseConfig({ upstreamUrl: up.url, server: { drain_timeout: '5s' } }),
      env: { FAKE_PROVIDER_KEY: PROVIDER_KEY },
    });
    try {
      // An idle keep-alive connection: it has finished a request and waits for the next one.
      const idle = net.connect(gw.port, '127.0.0.1');
      t.after(() => idle.destroy());
      let idleData = '';
      const idleClosed = new Promise((r) => idle.on('close', r));
      idle.on('data', (d) => { idleData += d; });
      idle.on('error', () => {});
      idle.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
      await waitFor(() => idleData.includes('{"status":"ok"}'), 3000, 'the /healthz answer');

      let signalledAt = 0;
      const stream = httpRequest(`${gw.url}/v1/chat/completions`, {
        body: chat({ stream: true }),
        headers: { 'x-request-id': 'drain-stream', 'x-test-chunks': '20', 'x-test-gap-ms': '60' },
        timeoutMs: 10_000,
        onData: (text, ctl) => {
          if (!signalledAt && text.includes('tok0')) { signalledAt = Date.now(); gw.signal('SIGTERM'); }
        },
      });
      await waitFor(() => signalledAt > 0, 5000, 'the first token');
      await sleep(150);
      const refused = await curl(`${gw.url}/healthz`, { timeoutMs: 2000 });
      assert.equal(refused.status, 0, 'a new connection during the drain must not be served');
      assert.equal(refused.exitCode, 7, `curl should see the connection refused: ${refused.stderr}`);
      const idleGone = await Promise.race([idleClosed.then(() => true), timeout(1000, false)]);
      assert.ok(idleGone, 'an idle keep-alive connection is closed at the start of the drain');

      const r = await stream;
      assert.equal(r.error, null, String(r.error));
      assert.equal(r.status, 200);
      const { events } = parseSse(r.body);
      assert.equal(events.at(-1), '[DONE]', 'the in-flight stream completed');
      assert.equal(events.length, 22);
      assert.ok(Date.now() - signalledAt >= 1000, 'the stream really was in flight during the drain');
      const exit = await Promise.race([gw.exited, timeout(3000)]);
      assert.deepEqual(exit, { code: 0, signal: null }, `exit after the drain: ${JSON.stringify(exit)}\n${gw.stderr}`);
      const log = gw.logs.find((l) => l.id === 'drain-stream');
      assert.equal(log?.status, 200);
      assert.equal(log?.failure, 'none');
      assert.equal(up.aborted.length, 0);
    } finally {
      await gw.kill();
    }
  });

  test('the drain deadline cuts a stream that is too long, cancels its upstream request, exit code 0', { timeout: 15_000 }, async () => {
    const gw = await startGateway({
      config: baseConfig({ upstreamUrl: up.url, server: { drain_timeout: '500ms' } }),
      env: { FAKE_PROVIDER_KEY: PROVIDER_KEY },
    });
    try {
      let signalledAt = 0;
      const stream = httpRequest(`${gw.url}/v1/chat/completions`, {
        body: chat({ stream: true }),
        headers: { 'x-request-id': 'drain-cut', 'x-test-chunks': '500', 'x-test-gap-ms': '20' },
        timeoutMs: 10_000,
        onData: (text) => { if (!signalledAt && text.includes('tok0')) { signalledAt = Date.now(); gw.signal('SIGTERM'); } },
      });
      const exit = await Promise.race([gw.exited, timeout(5000)]);
      assert.deepEqual(exit, { code: 0, signal: null }, gw.stderr);
      const tookMs = Date.now() - signalledAt;
      assert.ok(tookMs >= 400 && tookMs < 3500, `exited ${tookMs} ms after SIGTERM (drain_timeout 500 ms)`);
      const r = await stream;
      assert.ok(!r.body.includes('[DONE]'));
      assert.ok(await upstreamAbort(up, 'drain-cut', 1000), 'the cut stream\'s upstream request is cancelled too');
    } finally {
      await gw.kill();
    }
  });

  test('SIGTERM on an idle gateway exits 0 promptly', { timeout: 10_000 }, async () => {
    const gw = await startGateway({ config: baseConfig({ upstreamUrl: up.url }), env: { FAKE_PROVIDER_KEY: PROVIDER_KEY } });
    const started = Date.now();
    const exit = await gw.stop('SIGTERM', 5000);
    assert.deepEqual(exit, { code: 0, signal: null }, gw.stderr);
    assert.ok(Date.now() - started < 1500, `took ${Date.now() - started} ms`);
  });
});

describe('sluice CLI', () => {
  const dir = tempDir();
  const file = (name, text) => { const p = path.join(dir, name); fs.writeFileSync(p, text); return p; };

  test('check: a valid config exits 0 and says OK', { timeout: 10_000 }, async () => {
    const p = file('ok.yaml', 'listen: "127.0.0.1:0"\nupstreams:\n  up:\n    base_url: http://127.0.0.1:1\nmodels:\n  m:\n    upstream: up\n');
    const r = await runSluice(['check', '-c', p]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `${p}: OK (1 upstream(s), 1 model(s), 0 key(s))\n`);
  });

  test('check: every error is reported as file:line: key.path: message, exit 1', { timeout: 10_000 }, async () => {
    const p = file('bad.yaml', [
      'listen: "127.0.0.1:99999"', //  1
      'bogus: 1', //                    2
      'upstreams:', //                  3
      '  up:', //                       4
      '    base_url: ftp://example.com', // 5
      'models:', //                     6
      '  m:', //                        7
      '    upstream: nope', //          8
      'server:', //                     9
      '  header_timeout: 5x', //       10
      'keys:', //                      11
      '  - name: a', //                12
      '    secret_env: SLUICE_TEST_UNSET_VAR', // 13
      '',
    ].join('\n'));
    const r = await runSluice(['check', '-c', p]);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    const lines = r.stderr.trim().split('\n');
    for (const l of lines) assert.match(l, /^\S+:\d+: [A-Za-z_][\w.[\]-]*: \S.*$/, `not file:line: key.path: message: ${l}`);
    const expect = [
      [1, 'listen', /invalid address "127\.0\.0\.1:99999"/],
      [2, 'bogus', /unknown key "bogus"/],
      [5, 'upstreams.up.base_url', /unsupported scheme "ftp"/],
      [8, 'models.m.upstream', /unknown upstream "nope"/],
      [10, 'server.header_timeout', /invalid duration "5x"/],
      [13, 'keys[0].secret_env', /SLUICE_TEST_UNSET_VAR is not set/],
    ];
    for (const [line, key, msg] of expect) {
      const hit = lines.find((l) => l.startsWith(`${p}:${line}: ${key}: `));
      assert.ok(hit, `missing ${p}:${line}: ${key}: ... in\n${r.stderr}`);
      assert.match(hit, msg);
    }
    assert.equal(lines.length, expect.length, r.stderr);
  });

  test('check: an unreadable file or a missing -c is an error', { timeout: 10_000 }, async () => {
    const missing = path.join(dir, 'nope.yaml');
    const r = await runSluice(['check', '-c', missing]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`^${missing.replace(/[.]/g, '\\.')}: cannot read file`));
    const n = await runSluice(['check']);
    assert.notEqual(n.code, 0);
    assert.match(n.stderr, /--config is required/);
  });

  test('serve refuses an invalid config with the same diagnostics and exit 1', { timeout: 10_000 }, async () => {
    const p = file('bad-serve.yaml', 'listen: "127.0.0.1:0"\nupstreams:\n  up:\n    base_url: http://127.0.0.1:1\nmodels:\n  m:\n    upstream: missing\n');
    const r = await runSluice(['serve', '-c', p]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`${p.replace(/[.]/g, '\\.')}:7: models\\.m\\.upstream: unknown upstream "missing"`));
  });

  test('--version and --help', { timeout: 10_000 }, async () => {
    const v = await runSluice(['--version']);
    assert.equal(v.code, 0);
    assert.match(v.stdout, /^sluice \d+\.\d+\.\d+\S*\n$/);
    const h = await runSluice(['--help']);
    assert.equal(h.code, 0);
    for (const word of ['serve', 'check', '--version']) assert.ok(h.stdout.includes(word), `--help mentions ${word}`);
    const none = await runSluice([]);
    assert.notEqual(none.code, 0, 'no subcommand is an error');
  });

  after(() => fs.rmSync(dir, { recursive: true, force: true }));
});
