// What a rolling update needs from one replica (docs/kubernetes.md): on SIGTERM /readyz answers 503 at once
// while /healthz stays 200; with server.shutdown_delay the replica keeps accepting and serving for that long
// (a load balancer still sending to it meets no refused connection) and says Connection: close, so keep-alive
// clients move elsewhere; then it drains: new connections are refused, the in-flight stream finishes, exit 0.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startFakeUpstream } from './lib/fake_upstream.mjs';
import {
  startGateway, baseConfig, curl, httpRequest, parseSse, sleep, waitFor, after as timeout,
} from './lib/gateway.mjs';

const PROVIDER_KEY = 'sk-provider-ROLLOUT-7c1d';
const chat = (extra = {}) => JSON.stringify({ model: 'deepseek-chat', messages: [{ role: 'user', content: 'hi' }], ...extra });

describe('rollout: SIGTERM with a shutdown delay', () => {
  let up;
  before(async () => { up = await startFakeUpstream(); });
  after(async () => { await up?.close(); });

  test('readyz 503 at once, still serving during the delay, then refused; the stream finishes; exit 0', { timeout: 20_000 }, async () => {
    const gw = await startGateway({
      config: baseConfig({ upstreamUrl: up.url, server: { shutdown_delay: '1200ms', drain_timeout: '5s' } }),
      env: { FAKE_PROVIDER_KEY: PROVIDER_KEY },
    });
    try {
      const ready = await curl(`${gw.url}/readyz`);
      assert.equal(ready.status, 200);
      let signalledAt = 0;
      // 30 chunks 80 ms apart: ~2.4 s, longer than the delay, so it is still running when the drain starts.
      const stream = httpRequest(`${gw.url}/v1/chat/completions`, {
        body: chat({ stream: true }),
        headers: { 'x-request-id': 'rollout-stream', 'x-test-chunks': '30', 'x-test-gap-ms': '80' },
        timeoutMs: 15_000,
        onData: (text) => {
          if (!signalledAt && text.includes('tok0')) { signalledAt = Date.now(); gw.signal('SIGTERM'); }
        },
      });
      await waitFor(() => signalledAt > 0, 5000, 'the first token');
      await sleep(100);

      const notReady = await curl(`${gw.url}/readyz`);
      assert.equal(notReady.status, 503, 'readiness fails from the first SIGTERM on');
      assert.match(notReady.body, /"status":"draining"/);
      const live = await curl(`${gw.url}/healthz`);
      assert.equal(live.status, 200, 'liveness stays ok: a draining replica must not be restarted');
      // New work on a new connection is still served during the delay, with Connection: close.
      const during = await curl(`${gw.url}/v1/chat/completions`, {
        method: 'POST', body: chat(), headers: { 'content-type': 'application/json', 'x-request-id': 'during-delay' },
      });
      assert.equal(during.status, 200, during.body);
      assert.equal(during.headers.connection, 'close');

      // After the delay the listener is closed: a new connection is refused.
      await sleep(Math.max(0, signalledAt + 1500 - Date.now()));
      const refused = await curl(`${gw.url}/healthz`, { timeoutMs: 2000 });
      assert.equal(refused.exitCode, 7, `connection refused after the delay: ${refused.stderr}`);

      const r = await stream;
      assert.equal(r.error, null, String(r.error));
      const { events } = parseSse(r.body);
      assert.equal(events.at(-1), '[DONE]', 'the in-flight stream completed');
      assert.equal(events.length, 32);
      const exit = await Promise.race([gw.exited, timeout(4000)]);
      assert.deepEqual(exit, { code: 0, signal: null }, `exit after the drain: ${JSON.stringify(exit)}\n${gw.stderr}`);
      assert.ok(Date.now() - signalledAt >= 1200, 'the process lived through the delay');
      assert.equal((await gw.waitForLog((l) => l.id === 'rollout-stream')).status, 200);
    } finally {
      await gw.kill();
    }
  });

  test('a keep-alive connection idle through the delay is closed when the drain starts, not before', { timeout: 10_000 }, async (t) => {
    const gw = await startGateway({
      config: baseConfig({ upstreamUrl: up.url, server: { shutdown_delay: '800ms', drain_timeout: '2s' } }),
      env: { FAKE_PROVIDER_KEY: PROVIDER_KEY },
    });
    try {
      const sock = net.connect(gw.port, '127.0.0.1');
      t.after(() => sock.destroy());
      let data = '';
      let closedAt = 0;
      sock.on('data', (d) => { data += d; });
      sock.on('close', () => { closedAt = Date.now(); });
      sock.on('error', () => {});
      sock.write('GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n');
      await waitFor(() => data.includes('{"status":"ok"}'), 3000, 'the first /readyz answer');
      const signalledAt = Date.now();
      gw.signal('SIGTERM');
      await sleep(200);
      assert.equal(closedAt, 0, 'the idle connection stays open during the delay');
      // A request on it is answered, 503 for readiness, and the connection is then closed (Connection: close).
      data = '';
      sock.write('GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n');
      await waitFor(() => closedAt > 0, 3000, 'the close after the answer');
      assert.match(data, /^HTTP\/1\.1 503/);
      assert.match(data, /connection: close/i);
      assert.ok(closedAt - signalledAt < 800, 'closed after its answer, not at the drain');
      const exit = await Promise.race([gw.exited, timeout(4000)]);
      assert.deepEqual(exit, { code: 0, signal: null }, gw.stderr);
    } finally {
      await gw.kill();
    }
  });

  test('a second SIGTERM during the delay stops at once', { timeout: 10_000 }, async () => {
    const gw = await startGateway({
      config: baseConfig({ upstreamUrl: up.url, server: { shutdown_delay: '30s', drain_timeout: '30s' } }),
      env: { FAKE_PROVIDER_KEY: PROVIDER_KEY },
    });
    try {
      gw.signal('SIGTERM');
      await sleep(200);
      assert.equal((await curl(`${gw.url}/readyz`)).status, 503, 'in the delay');
      const started = Date.now();
      gw.signal('SIGTERM');
      const exit = await Promise.race([gw.exited, timeout(4000)]);
      assert.deepEqual(exit, { code: 0, signal: null }, gw.stderr);
      assert.ok(Date.now() - started < 2500, `took ${Date.now() - started} ms`);
    } finally {
      await gw.kill();
    }
  });
});
