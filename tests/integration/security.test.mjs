// Secrets never leave (docs/security.md): sluice's control headers and client-claimed addresses are not
// forwarded upstream, headers named in Connection are dropped, /metrics lives with the admin routes, and a
// provider key echoed by an upstream is redacted before the client sees it. A sweep over every kind of answer,
// /metrics, /ui and /admin checks that none of the provider, virtual or admin keys ever comes back.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startFakeUpstream } from './lib/fake_upstream.mjs';
import { startGateway, baseConfig, curl, rawHttp, parseSse, findLeaks, TEST_CONTROL_HEADERS } from './lib/gateway.mjs';
import { startAdminGateway, admin } from './lib/admin.mjs';

const PROVIDER_KEY = 'sk-provider-TOPSECRET-0123456789abcdef';
const ADMIN_KEY = 'admin-key-0123456789-SECRET';
const CLIENT_KEY = 'ck-client-42-secret';
const T = { timeout: 15_000 };
const chat = (extra = {}) => JSON.stringify({ model: 'deepseek-chat', messages: [{ role: 'user', content: 'hi' }], ...extra });

describe('header forwarding: an allow-list', () => {
  let up;
  let gw;
  before(async () => {
    up = await startFakeUpstream();
    const cfg = baseConfig({ upstreamUrl: up.url, keys: [{ name: 'c', secret_env: 'CLIENT_KEY' }] });
    cfg.upstreams.fake.forward_headers = [...TEST_CONTROL_HEADERS, 'x-tenant'];
    cfg.admin = { key_env: 'ADMIN_KEY' };
    gw = await startGateway({ config: cfg, env: { FAKE_PROVIDER_KEY: PROVIDER_KEY, ADMIN_KEY, CLIENT_KEY } });
  });
  after(async () => {
    await up?.close();
    await gw?.kill();
  });

  const spoofed = {
    Authorization: `Bearer ${CLIENT_KEY}`,
    'x-sluice-admin-key': ADMIN_KEY,
    'X-Forwarded-For': '6.6.6.6',
    Forwarded: 'for=6.6.6.6',
    'X-Real-IP': '6.6.6.6',
    Via: '1.1 evil',
    'OpenAI-Organization': 'org-client',
    'X-Priority': 'low',
    'X-Custom-Thing': 'x',
    'X-Tenant': 'acme',
  };

  test('the admin key, client addresses, sluice control and unknown headers never reach the upstream', T, async () => {
    for (const stream of [false, true]) {
      const r = await curl(`${gw.url}/v1/chat/completions`, { body: chat({ stream }), headers: spoofed });
      assert.equal(r.status, 200, r.body);
      const h = up.requests.at(-1).headers;
      for (const name of ['x-sluice-admin-key', 'x-forwarded-for', 'forwarded', 'x-real-ip', 'via',
        'openai-organization', 'x-priority', 'x-custom-thing']) {
        assert.equal(h[name], undefined, `${name} was forwarded (stream ${stream})`);
      }
      assert.equal(h['x-tenant'], 'acme', 'a header the upstream lists in forward_headers travels');
      assert.equal(h.authorization, `Bearer ${PROVIDER_KEY}`);
      assert.ok(!JSON.stringify(h).includes(ADMIN_KEY) && !JSON.stringify(h).includes(CLIENT_KEY));
    }
  });

  test('a header named in Connection is hop-by-hop even when allowed (RFC 9110 7.6.1)', T, async () => {
    const { data: raw } = await rawHttp(gw.port, [
      'POST /v1/chat/completions HTTP/1.1', 'Host: x', `Authorization: Bearer ${CLIENT_KEY}`,
      'Content-Type: application/json', 'Connection: close, X-Tenant', 'X-Tenant: acme',
      'traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', `Content-Length: ${chat().length}`,
      '', chat()].join('\r\n'));
    assert.match(raw, /^HTTP\/1\.1 200/);
    const h = up.requests.at(-1).headers;
    assert.equal(h['x-tenant'], undefined);
    assert.equal(h.traceparent, '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
  });

  test('an upstream that echoes the provider key has it redacted: error bodies and in-band stream errors', T, async () => {
    const seen = [];
    for (const status of ['400', '500', '503']) {
      const r = await curl(`${gw.url}/v1/chat/completions`, {
        body: chat(),
        headers: { Authorization: `Bearer ${CLIENT_KEY}`, 'x-test-mode': 'status', 'x-test-status': status, 'x-test-echo-auth': '1' },
      });
      seen.push(r);
      assert.equal(r.status, Number(status), r.body);
      assert.match(r.body, /you sent: Bearer \[redacted\]/, r.body);
    }
    const s = await curl(`${gw.url}/v1/chat/completions`, {
      body: chat({ stream: true }),
      headers: { Authorization: `Bearer ${CLIENT_KEY}`, 'x-test-mode': 'inband-error', 'x-test-echo-auth': '1' },
    });
    seen.push(s);
    assert.equal(s.status, 200);
    const events = parseSse(s.body).events;
    assert.ok(events.some((e) => e.includes('[redacted]')), s.body);
    assert.deepEqual(findLeaks(PROVIDER_KEY, gw, seen), []);
    assert.deepEqual(findLeaks(PROVIDER_KEY.slice(0, 12), gw, seen), []);
  });
  test('sweep: no answer, header, log line, /metrics, /ui or /admin output carries any of the three keys', { timeout: 30_000 }, async () => {
    const auth = { Authorization: `Bearer ${CLIENT_KEY}` };
    const asAdmin = { 'x-sluice-admin-key': ADMIN_KEY };
    const post = (path, body, headers = {}) => curl(`${gw.url}${path}`, { body, headers: { ...auth, ...headers } });
    const seen = [
      await post('/v1/chat/completions', chat()),
      await post('/v1/chat/completions', chat({ stream: true, stream_options: { include_usage: true } })),
      await post('/v1/embeddings', JSON.stringify({ model: 'deepseek-chat', input: 'x' })),
      await post('/v1/chat/completions', chat({ model: 'no-such-model' })),
      await post('/v1/chat/completions', chat({ temperature: 'hot' })),
      await post('/v1/chat/completions', '{not json'),
      await post('/v1/chat/completions', chat(), { Authorization: `Bearer ${CLIENT_KEY}x` }),
      await post('/v1/chat/completions', chat(), { Authorization: `Bearer ${ADMIN_KEY}` }),
      await post('/v1/chat/completions', chat(), { 'x-test-mode': 'status', 'x-test-status': '401', 'x-test-echo-auth': '1' }),
      await post('/v1/chat/completions', chat(), { 'x-test-mode': 'status', 'x-test-status': '500', 'x-test-echo-auth': '1' }),
      await curl(`${gw.url}/v1/models`, { headers: auth }),
    ];
    for (const path of ['/metrics', '/ui', '/ui/state', '/admin/upstreams', '/admin/budgets', '/admin/usage']) {
      seen.push(await curl(`${gw.url}${path}`, { headers: asAdmin }));
      seen.push(await curl(`${gw.url}${path}`, { headers: auth }));
    }
    assert.ok(seen.some((r) => r.status === 200 && /sluice_requests_total/.test(r.body)), 'the admin saw /metrics');
    await new Promise((r) => setTimeout(r, 300));  // the access log lines of the last requests
    for (const [name, secret] of [['provider', PROVIDER_KEY], ['virtual', CLIENT_KEY], ['admin', ADMIN_KEY]]) {
      assert.deepEqual(findLeaks(secret, gw, seen), [], `the ${name} key`);
      assert.deepEqual(findLeaks(secret.slice(0, 12), gw, seen), [], `the ${name} key's prefix`);
    }
  });
});

describe('/metrics lives with the admin routes', () => {
  let up;
  const gws = [];
  before(async () => { up = await startFakeUpstream(); });
  after(async () => {
    await up?.close();
    for (const g of gws) await g.kill();
  });
  const start = async (extra, env = {}, useAdmin = false) => {
    const cfg = { ...baseConfig({ upstreamUrl: up.url }), ...extra };
    const g = await (useAdmin ? startAdminGateway : startGateway)({ config: cfg, env: { FAKE_PROVIDER_KEY: PROVIDER_KEY, ...env } });
    gws.push(g);
    return g;
  };

  test('open gateway (no keys, no admin): /metrics on the main listener', T, async () => {
    const g = await start({});
    assert.equal((await curl(`${g.url}/metrics`, { method: 'GET' })).status, 200);
  });

  test('virtual keys without admin or scrape port: /metrics is not served', T, async () => {
    const g = await start({ keys: [{ name: 'c', secret_env: 'CLIENT_KEY' }] }, { CLIENT_KEY });
    const r = await curl(`${g.url}/metrics`, { method: 'GET', headers: { Authorization: `Bearer ${CLIENT_KEY}` } });
    assert.equal(r.status, 404);
    assert.equal(JSON.parse(r.body).error.code, 'unknown_url');
  });

  test('admin key on the main listener: /metrics needs it', T, async () => {
    const g = await start({ admin: { key_env: 'ADMIN_KEY' } }, { ADMIN_KEY });
    const no = await curl(`${g.url}/metrics`, { method: 'GET' });
    assert.equal(no.status, 401);
    assert.equal(JSON.parse(no.body).error.code, 'invalid_admin_key');
    assert.ok(!no.body.includes('sluice_'));
    const yes = await admin(g.url, '/metrics', { key: ADMIN_KEY });
    assert.equal(yes.status, 200);
    assert.match(yes.body, /sluice_requests_total|sluice_build_info/);
  });

  test('admin listener: /metrics there, not on the main listener', T, async () => {
    const g = await start({ admin: { listen: '127.0.0.1:0' } }, {}, true);
    assert.equal((await curl(`${g.url}/metrics`, { method: 'GET' })).status, 404);
    const r = await admin(g.adminUrl, '/metrics');
    assert.equal(r.status, 200);
    assert.match(r.body, /sluice_build_info/);
  });

  test('metrics.listen: a scrape-only port that serves /metrics and nothing else', T, async () => {
    const g = await start({ metrics: { listen: '127.0.0.1:0' }, admin: { key_env: 'ADMIN_KEY' } }, { ADMIN_KEY });
    const m = /sluice: metrics listening on (\S+):(\d+)/.exec(g.stderr);
    assert.ok(m, g.stderr);
    const base = `http://127.0.0.1:${m[2]}`;
    const r = await curl(`${base}/metrics`, { method: 'GET' });
    assert.equal(r.status, 200);
    assert.match(r.body, /sluice_build_info/);
    assert.equal((await curl(`${base}/admin/upstreams`, { method: 'GET' })).status, 404);
    assert.equal((await curl(`${base}/v1/chat/completions`, { body: chat() })).status, 404);
    assert.equal((await curl(`${g.url}/metrics`, { method: 'GET' })).status, 401, 'main listener still needs the admin key');
  });
});
