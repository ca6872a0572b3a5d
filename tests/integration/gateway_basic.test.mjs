// The gateway's HTTP surface, driven with curl: routes (with and without /v1), GET /v1/models, health
// checks, every 4xx the gateway produces itself, client virtual keys, request ids, header forwarding, and
// that the provider key never leaks.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { startFakeUpstream } from './lib/fake_upstream.mjs';
import { startGateway, baseConfig, curl, rawHttp, parseRaw, findLeaks } from './lib/gateway.mjs';

const PROVIDER_KEY = 'sk-provider-TOPSECRET-0123456789abcdef';
const ALICE = 'ck-alice-7f3a9c';
const BOB = 'ck-bob-51d2e8';
const T = { timeout: 10_000 };

describe('gateway: routes, errors, auth', () => {
  let up;
  let gw;
  const seen = []; // every response a client got, for the leak check at the end

  before(async () => {
    up = await startFakeUpstream();
    gw = await startGateway({
      config: baseConfig({
        upstreamUrl: up.url,
        upstreams: {
          fake: { base_url: up.url, api_key_env: 'FAKE_PROVIDER_KEY' },
          fakev1: { base_url: `${up.url}/v1/`, api_key_env: 'FAKE_PROVIDER_KEY' },
        },
        models: {
          'deepseek-chat': { upstream: 'fake' },
          'public-chat': { upstream: 'fake', model: 'deepseek-chat' },
          'v1-model': { upstream: 'fakev1', owned_by: 'acme' },
        },
        keys: [
          { name: 'alice', secret_env: 'ALICE_KEY' },
          { name: 'bob', secret_sha256: crypto.createHash('sha256').update(BOB).digest('hex') },
        ],
        server: { max_body_bytes: 4096, max_header_bytes: 4096 },
      }),
      env: { FAKE_PROVIDER_KEY: PROVIDER_KEY, ALICE_KEY: ALICE },
    });
  });

  after(async () => {
    await up?.close();
    await gw?.kill(); // last: it throws if the gateway crashed during the tests
  });

  const auth = (key = ALICE) => ({ Authorization: `Bearer ${key}` });
  const call = async (path, opts = {}) => {
    const r = await curl(gw.url + path, opts);
    seen.push(r);
    return r;
  };
  const post = (path, body, headers = {}) =>
    call(path, { body: typeof body === 'string' ? body : JSON.stringify(body), headers: { ...auth(), ...headers } });
  const chat = { model: 'deepseek-chat', messages: [{ role: 'user', content: 'hi' }] };

  const assertOpenAiError = (r, status, code) => {
    assert.equal(r.status, status, `expected ${status}, got ${r.status}: ${r.body}`);
    assert.match(r.headers['content-type'] || '', /^application\/json/);
    const j = r.json();
    assert.equal(typeof j.error, 'object', r.body);
    assert.equal(typeof j.error.message, 'string');
    assert.ok(j.error.message.length > 0);
    assert.equal(typeof j.error.type, 'string');
    assert.ok('param' in j.error, 'OpenAI errors carry "param"');
    if (code !== undefined) assert.equal(j.error.code, code, r.body);
    return j.error;
  };

  test('GET /v1/models and /models list the configured models', T, async () => {
    for (const path of ['/v1/models', '/models']) {
      const r = await call(path, { headers: auth() });
      assert.equal(r.status, 200, r.body);
      assert.match(r.headers['content-type'], /^application\/json/);
      const j = r.json();
      assert.equal(j.object, 'list');
      assert.deepEqual(j.data.map((m) => m.id), ['deepseek-chat', 'public-chat', 'v1-model']);
      for (const m of j.data) assert.equal(m.object, 'model');
      assert.equal(j.data.find((m) => m.id === 'v1-model').owned_by, 'acme');
      assert.equal(j.data.find((m) => m.id === 'deepseek-chat').owned_by, 'fake');
    }
    assertOpenAiError(await call('/v1/models'), 401, 'invalid_api_key');
  });

  test('health checks answer without a key; wrong methods get 405 with Allow', T, async () => {
    for (const path of ['/healthz', '/readyz']) {
      const r = await call(path);
      assert.equal(r.status, 200);
      assert.deepEqual(r.json(), { status: 'ok' });
      const h = await call(path, { method: 'HEAD', args: ['-I'] });
      assert.equal(h.status, 200);
      const p = await call(path, { method: 'POST', body: '{}' });
      assertOpenAiError(p, 405, 'method_not_allowed');
      assert.equal(p.headers.allow, 'GET');
    }
    const g = await call('/v1/chat/completions', { headers: auth() });
    assertOpenAiError(g, 405, 'method_not_allowed');
    assert.equal(g.headers.allow, 'POST');
    const d = await call('/v1/models', { method: 'DELETE', headers: auth() });
    assertOpenAiError(d, 405, 'method_not_allowed');
    assert.equal(d.headers.allow, 'GET');
  });

  test('chat completions work with and without the /v1 prefix, and base_url paths are kept', T, async () => {
    for (const [path, model, upstreamPath] of [
      ['/v1/chat/completions', 'deepseek-chat', '/chat/completions'],
      ['/chat/completions', 'deepseek-chat', '/chat/completions'],
      ['/v1/chat/completions', 'v1-model', '/v1/chat/completions'],
    ]) {
      const before = up.requests.length;
      const r = await post(path, { ...chat, model });
      assert.equal(r.status, 200, r.body);
      assert.equal(r.json().choices[0].message.content, 'Hello from upstream');
      assert.equal(up.requests.length, before + 1);
      const seenUp = up.requests.at(-1);
      assert.equal(seenUp.method, 'POST');
      assert.equal(seenUp.url, upstreamPath);
      assert.equal(seenUp.parsed.model, model);
    }
  });

  test('completions and embeddings are routed to their upstream paths', T, async () => {
    const c = await post('/v1/completions', { model: 'deepseek-chat', prompt: 'once upon' });
    assert.equal(c.status, 200, c.body);
    assert.equal(up.requests.at(-1).url, '/completions');
    const e = await post('/embeddings', { model: 'deepseek-chat', input: 'hello' });
    assert.equal(e.status, 200, e.body);
    assert.equal(up.requests.at(-1).url, '/embeddings');
    assert.deepEqual(e.json().data[0].embedding, [0.1, 0.2]);
    assertOpenAiError(await post('/v1/embeddings', { model: 'deepseek-chat', input: 'x', stream: true }), 400);
  });

  test('unknown paths get an OpenAI-shaped 404 with a request id', T, async () => {
    for (const path of ['/v1/nope', '/v2/chat/completions', '/']) {
      const r = await call(path, { headers: auth() });
      assertOpenAiError(r, 404, 'unknown_url');
      assert.match(r.headers['x-request-id'] || '', /^[0-9a-f]{16}$/);
    }
  });

  test('a body over max_body_bytes gets 413 (Content-Length and chunked) and is never forwarded', T, async () => {
    const before = up.requests.length;
    const big = JSON.stringify({ ...chat, messages: [{ role: 'user', content: 'x'.repeat(5000) }] });
    assertOpenAiError(await post('/v1/chat/completions', big), 413, 'request_too_large');
    assertOpenAiError(await post('/v1/chat/completions', big, { 'Transfer-Encoding': 'chunked' }), 413, 'request_too_large');
    assert.equal(up.requests.length, before, 'an oversized body must not reach the upstream');
    // Just under the limit is fine.
    const ok = JSON.stringify({ ...chat, messages: [{ role: 'user', content: 'y'.repeat(3900) }] });
    assert.ok(ok.length <= 4096);
    assert.equal((await post('/v1/chat/completions', ok)).status, 200);
  });

  test('a missing or wrong Content-Type gets 415', T, async () => {
    const before = up.requests.length;
    assertOpenAiError(await post('/v1/chat/completions', chat, { 'Content-Type': 'text/plain' }), 415, 'unsupported_media_type');
    assertOpenAiError(await post('/v1/chat/completions', chat, { 'Content-Type': null }), 415, 'unsupported_media_type');
    assert.equal((await post('/v1/chat/completions', chat, { 'Content-Type': 'application/json; charset=utf-8' })).status, 200);
    assert.equal(up.requests.length, before + 1);
  });

  test('a header block over max_header_bytes gets 431', T, async () => {
    const r = await call('/v1/chat/completions', { body: JSON.stringify(chat), headers: { ...auth(), 'X-Big': 'a'.repeat(6000) } });
    assertOpenAiError(r, 431, 'header_too_large');
    assert.equal((await post('/v1/chat/completions', chat)).status, 200, 'the gateway still works afterwards');
  });

  test('invalid JSON and bad fields get 400 (unknown model 404) without reaching the upstream', T, async () => {
    const before = up.requests.length;
    const e1 = assertOpenAiError(await post('/v1/chat/completions', '{"model": "deepseek-chat", '), 400, 'invalid_json');
    assert.match(e1.message, /JSON/);
    assertOpenAiError(await post('/v1/chat/completions', '[1,2,3]'), 400, 'invalid_json');
    assertOpenAiError(await post('/v1/chat/completions', ''), 400, 'invalid_json');
    const e2 = assertOpenAiError(await post('/v1/chat/completions', { messages: [] }), 400, 'missing_required_parameter');
    assert.equal(e2.param, 'model');
    assertOpenAiError(await post('/v1/chat/completions', { model: 42, messages: [] }), 400, 'invalid_type');
    assertOpenAiError(await post('/v1/chat/completions', { ...chat, stream: 'yes' }), 400, 'invalid_type');
    const e3 = assertOpenAiError(await post('/v1/chat/completions', { ...chat, model: 'gpt-17' }), 404, 'model_not_found');
    assert.match(e3.message, /gpt-17/);
    assert.equal(e3.param, 'model');
    assert.equal(up.requests.length, before, 'no bad request may reach the upstream');
    const log = await gw.waitForLog((l) => l.model === 'gpt-17');
    assert.equal(log.status, 404);
    assert.equal(log.key, 'alice');
  });

  test('malformed HTTP gets 400 and the process keeps serving', T, async () => {
    const r = await rawHttp(gw.port, 'GARBAGE\x01 / HTTP/1.1\r\n\r\n', { timeoutMs: 3000 });
    const p = parseRaw(r.data);
    assert.equal(p.status, 400, r.data);
    assert.equal(JSON.parse(p.body).error.code, 'bad_request');
    assert.ok(r.closed);
    assert.equal(gw.exit, null);
    assert.equal((await call('/healthz')).status, 200);
  });

  test('hostile or broken HTTP never takes the process down', { timeout: 20_000 }, async () => {
    const body = JSON.stringify(chat);
    const head = (extra) => `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ALICE}\r\nContent-Type: application/json\r\n${extra}`;
    const inputs = [
      head('Transfer-Encoding: chunked\r\n\r\nZZZ\r\nnot hex\r\n0\r\n\r\n'),
      head('Content-Length: -5\r\n\r\n'),
      head('Content-Length: 99999999999999999999999\r\n\r\n'),
      head(`Content-Length: ${body.length}\r\nContent-Length: 3\r\n\r\n${body}`),
      head('Header-Without-Colon\r\n\r\n'),
      'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n',
      `GET /${'a'.repeat(20000)} HTTP/1.1\r\nHost: x\r\n\r\n`,
      'GET /healthz HTTP/1.1\r\nHost: x\r\nX: a\x00b\r\n\r\n',
      '\r\n\r\n\r\n',
      Buffer.from([0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00, 0xa1, 0x03, 0x03]), // a TLS ClientHello
      head(`Content-Length: ${body.length + 10}\r\n\r\n${body}`), // body shorter than announced, then close
    ];
    const results = await Promise.all(inputs.map((i) => rawHttp(gw.port, i, { timeoutMs: 1500 })));
    results.forEach((r, i) => {
      if (!r.data) return; // closing silently is fine
      const status = parseRaw(r.data).status;
      assert.ok(status >= 400 && status < 500, `input #${i} got ${r.data.slice(0, 200)}`);
    });
    assert.equal(gw.exit, null, `the gateway exited: ${gw.stderr}`);
    assert.equal((await call('/healthz')).status, 200);
    assert.equal((await post('/v1/chat/completions', chat)).status, 200);
  });

  test('keep-alive: several requests on one connection (also pipelined) are answered in order', T, async () => {
    const body = JSON.stringify(chat);
    const req = (id) => `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ALICE}\r\n`
      + `Content-Type: application/json\r\nContent-Length: ${body.length}\r\nx-request-id: ${id}\r\n\r\n${body}`;
    const r = await rawHttp(gw.port, [[0, req('ka-1') + req('ka-2')], [200, req('ka-3')],
      [200, 'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n']], { timeoutMs: 4000 });
    assert.ok(r.closed, 'Connection: close is honoured');
    const ids = [...r.data.matchAll(/x-request-id: (\S+)/gi)].map((m) => m[1]);
    assert.deepEqual(ids.slice(0, 3), ['ka-1', 'ka-2', 'ka-3']);
    assert.equal([...r.data.matchAll(/HTTP\/1\.1 200 OK\r\n/g)].length, 4, r.data);
    assert.ok(r.data.endsWith('{"status":"ok"}'));
  });

  test('a chunked upload in pieces (extensions, trailer) and Expect: 100-continue reach the upstream intact', T, async () => {
    const body = JSON.stringify({ ...chat, messages: [{ role: 'user', content: 'chunked upload' }] });
    const cut = [0, 7, 40, body.length];
    const chunks = cut.slice(1).map((end, i) => body.slice(cut[i], end));
    const head = `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ALICE}\r\n`
      + 'Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nx-request-id: chunky\r\n'
      + 'Expect: 100-continue\r\nConnection: close\r\n\r\n';
    const parts = [[0, head]];
    chunks.forEach((c, i) => parts.push([30, `${c.length.toString(16).toUpperCase()}${i === 1 ? ';ext=1' : ''}\r\n${c}\r\n`]));
    parts.push([30, '0\r\nX-Trailer: ignored\r\n\r\n']);
    const r = await rawHttp(gw.port, parts, { timeoutMs: 4000 });
    assert.match(r.data, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 OK\r\n/, r.data);
    const rec = up.requests.find((q) => q.headers['x-request-id'] === 'chunky');
    assert.ok(rec, 'the upstream got the request');
    assert.equal(rec.body, body);
    assert.equal(rec.headers['content-length'], String(body.length), 'forwarded with a length, not chunked');
    assert.equal(rec.headers.expect, undefined);
    assert.equal(rec.headers['transfer-encoding'], undefined);
  });

  test('requests shaped for smuggling get 400 and never reach the upstream', T, async () => {
    const body = JSON.stringify(chat);
    const head = (extra) => `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ALICE}\r\n`
      + `Content-Type: application/json\r\nx-request-id: smuggle\r\n${extra}\r\n`;
    const inputs = [
      head(`Content-Length: ${body.length}\r\nTransfer-Encoding: chunked\r\n`) + `0\r\n\r\n${body}`,
      head(`Transfer-Encoding: chunked, identity\r\nContent-Length: ${body.length}\r\n`) + body,
      head('Transfer-Encoding: gzip\r\n') + body,
      head(`Content-Length: ${body.length}\r\nContent-Length: ${body.length + 1}\r\n`) + body,
      head(`Content-Length : ${body.length}\r\n`) + body,
      head(`X-Folded: a\r\n b\r\nContent-Length: ${body.length}\r\n`) + body,
      // A bare CR inside a line (a bare LF is a line end, RFC 9112 2.2: protocol_edges.test.mjs).
      head(`Content-Length: ${body.length}\rX-Bare-CR: 1\r\n`) + body,
    ];
    const before = up.requests.length;
    for (const [i, input] of inputs.entries()) {
      const r = await rawHttp(gw.port, input, { timeoutMs: 3000 });
      const p = parseRaw(r.data);
      assert.equal(p.status, 400, `input #${i}: ${r.data.slice(0, 300)}`);
      assert.equal(JSON.parse(p.body).error.code, 'bad_request');
      assert.ok(r.closed, `input #${i}: the connection is closed after the 400`);
    }
    assert.equal(up.requests.slice(before).filter((q) => q.headers['x-request-id'] === 'smuggle').length, 0);
  });

  test('a request pipelined while the previous one is still upstream is kept and answered in order', T, async () => {
    // The gateway watches the client socket during the first request (to notice a disconnect); the bytes of
    // the second request arrive during that watch and must be handed back to the connection, not lost.
    const body = JSON.stringify(chat);
    const req = (id, extra = '') => `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ALICE}\r\n`
      + `Content-Type: application/json\r\nContent-Length: ${body.length}\r\nx-request-id: ${id}\r\n${extra}\r\n${body}`;
    const slow = 'x-test-keepalives: 10\r\nx-test-gap-ms: 40\r\n';  // ~400 ms of blank lines first
    const before = up.requests.length;
    const r = await rawHttp(gw.port, [[0, req('pl-1', slow)], [100, req('pl-2')], [50, req('pl-3', 'Connection: close\r\n')]],
      { timeoutMs: 5000 });
    assert.ok(r.closed, 'Connection: close is honoured');
    const ids = [...r.data.matchAll(/x-request-id: (\S+)/gi)].map((m) => m[1]);
    assert.deepEqual(ids, ['pl-1', 'pl-2', 'pl-3'], r.data);
    assert.equal([...r.data.matchAll(/HTTP\/1\.1 200 OK\r\n/g)].length, 3, r.data);
    const first = up.requests.slice(before).find((q) => q.headers['x-request-id'] === 'pl-1');
    assert.ok(first && !first.closedEarly, 'the first request was not cancelled by the pipelined bytes');
  });

  test('client virtual keys: 401 without a valid key, key name in the access log', T, async () => {
    const before = up.requests.length;
    const none = assertOpenAiError(await call('/v1/chat/completions', { body: JSON.stringify(chat) }), 401, 'invalid_api_key');
    assert.equal(none.type, 'invalid_request_error');
    assertOpenAiError(await post('/v1/chat/completions', chat, auth('ck-wrong')), 401, 'invalid_api_key');
    assertOpenAiError(await post('/v1/chat/completions', chat, { Authorization: `Basic ${ALICE}` }), 401, 'invalid_api_key');
    assertOpenAiError(await post('/v1/chat/completions', chat, { Authorization: `Bearer ${PROVIDER_KEY}` }), 401, 'invalid_api_key');
    assert.equal(up.requests.length, before, 'unauthenticated requests must not reach the upstream');

    const a = await post('/v1/chat/completions', chat, { 'x-request-id': 'auth-alice-1' });
    assert.equal(a.status, 200, a.body);
    const b = await post('/v1/chat/completions', chat, { ...auth(BOB), 'x-request-id': 'auth-bob-1' });
    assert.equal(b.status, 200, b.body);
    assert.equal((await gw.logFor('auth-alice-1')).key, 'alice');
    assert.equal((await gw.logFor('auth-bob-1')).key, 'bob');
  });

  test('the upstream gets the provider key, never the client key or client credentials', T, async () => {
    const r = await post('/v1/chat/completions', chat, {
      'X-Api-Key': ALICE, Cookie: 'session=abc', 'User-Agent': 'my-client/1.0', 'X-Custom-Thing': 'dropped',
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    });
    assert.equal(r.status, 200, r.body);
    const h = up.requests.at(-1).headers;
    assert.equal(h.authorization, `Bearer ${PROVIDER_KEY}`);
    assert.equal(h['x-api-key'], undefined);
    assert.equal(h.cookie, undefined);
    assert.match(h['user-agent'], /^sluice\//);
    assert.equal(h['x-custom-thing'], undefined, 'only allow-listed client headers travel upstream');
    assert.equal(h.traceparent, '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
    assert.equal(h['content-type'], 'application/json');
    assert.equal(h.host, `127.0.0.1:${up.port}`);
    for (const rec of up.requests) {
      assert.ok(!JSON.stringify(rec.headers).includes(ALICE) && !JSON.stringify(rec.headers).includes(BOB),
        'a client key reached the upstream');
    }
  });

  test('x-request-id: a sane client id is kept end to end, anything else is replaced', T, async () => {
    const r = await post('/v1/chat/completions', chat, { 'x-request-id': 'client-id_1.2-abc' });
    assert.equal(r.status, 200);
    assert.equal(r.headers['x-request-id'], 'client-id_1.2-abc');
    assert.equal(up.requests.at(-1).headers['x-request-id'], 'client-id_1.2-abc');
    const log = await gw.logFor('client-id_1.2-abc');
    assert.equal(log.status, 200);

    const bad = await post('/v1/chat/completions', chat, { 'x-request-id': 'has space"and quote' });
    assert.match(bad.headers['x-request-id'], /^[0-9a-f]{16}$/);
    assert.equal(up.requests.at(-1).headers['x-request-id'], bad.headers['x-request-id']);
    const long = await post('/v1/chat/completions', chat, { 'x-request-id': 'a'.repeat(200) });
    assert.match(long.headers['x-request-id'], /^[0-9a-f]{16}$/);

    const x = await post('/v1/chat/completions', chat);
    const y = await post('/v1/chat/completions', chat);
    assert.match(x.headers['x-request-id'], /^[0-9a-f]{16}$/);
    assert.notEqual(x.headers['x-request-id'], y.headers['x-request-id']);
  });

  test('the access log has one complete JSON record per proxied request', T, async () => {
    const r = await post('/chat/completions', chat, { 'x-request-id': 'log-check-1' });
    assert.equal(r.status, 200);
    const l = await gw.logFor('log-check-1');
    // Later features may add fields; these are the foundation's and must all be there.
    for (const k of ['ts', 'id', 'key', 'method', 'path', 'model', 'upstream', 'status', 'stream', 'failure', 'ttft_ms',
      'duration_ms', 'prompt_tokens', 'completion_tokens', 'keepalives', 'bytes_out']) {
      assert.ok(k in l, `access-log field ${k} is missing: ${JSON.stringify(l)}`);
    }
    assert.match(l.ts, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.equal(l.key, 'alice');
    assert.equal(l.method, 'POST');
    assert.equal(l.path, '/chat/completions');
    assert.equal(l.model, 'deepseek-chat');
    assert.equal(l.upstream, 'fake');
    assert.equal(l.stream, false);
    assert.equal(l.failure, 'none');
    assert.equal(l.prompt_tokens, 5);
    assert.equal(l.completion_tokens, 3);
    assert.equal(l.keepalives, 0);
    assert.ok(Number.isInteger(l.ttft_ms) && l.ttft_ms >= 0);
    assert.ok(l.duration_ms >= l.ttft_ms);
    assert.equal(l.bytes_out, r.raw.length, 'bytes_out counts the whole response as sent');
    assert.equal(gw.logs.filter((x) => x.id === 'log-check-1').length, 1);
    assert.deepEqual(gw.badLogLines, [], 'stdout must only carry JSON access-log lines');
  });

  // A client can send "model" twice. The gateway routes, authorises and rewrites on the first one; a
  // provider's JSON parser (like Python's and JavaScript's) keeps the last one. So the upstream must never see
  // a different model than the one the gateway routed on.
  test('a duplicate "model" key cannot smuggle another upstream model past the mapping', T, async () => {
    const body = '{"model":"public-chat","messages":[{"role":"user","content":"hi"}],"model":"deepseek-reasoner-expensive"}';
    const before = up.requests.length;
    const r = await post('/v1/chat/completions', body);
    if (r.status === 200) {
      assert.equal(up.requests.length, before + 1);
      assert.equal(up.requests.at(-1).parsed.model, 'deepseek-chat',
        `the gateway routed "public-chat" but the upstream will run ${up.requests.at(-1).parsed.model}`);
    } else {
      assertOpenAiError(r, 400);
      assert.equal(up.requests.length, before);
    }
  });

  test('the provider key appears in no response and no log line; the process never crashed', T, async () => {
    assert.ok(seen.length > 30, `checked ${seen.length} responses`);
    assert.deepEqual(findLeaks(PROVIDER_KEY, gw, seen), []);
    assert.deepEqual(findLeaks(ALICE, gw, []), [], 'client secrets are not logged either');
    assert.equal(gw.exit, null, `the gateway exited: ${JSON.stringify(gw.exit)}\n${gw.stderr}`);
  });
});
