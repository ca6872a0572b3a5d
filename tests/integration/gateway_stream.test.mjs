// Relaying answers: non-stream and SSE streams, model rewrite, DeepSeek's keep-alive bytes (blank lines and
// ": keep-alive" comments) and the deadlines they must not reset, and every upstream failure the client must
// learn about in a shape it understands (a JSON error before commit, an error event + [DONE] after).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startFakeUpstream } from './lib/fake_upstream.mjs';
import { startGateway, baseConfig, curl, httpRequest, parseSse, findLeaks } from './lib/gateway.mjs';

const PROVIDER_KEY = 'sk-provider-STREAMSECRET-9876543210';
const T = { timeout: 10_000 };

async function closedPort() {
  const srv = net.createServer();
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address();
  await new Promise((r) => srv.close(r));
  return port;
}

describe('gateway: relaying answers and upstream failures', () => {
  let up;
  let gw;
  const seen = [];

  before(async () => {
    up = await startFakeUpstream();
    const down = await closedPort();
    gw = await startGateway({
      config: baseConfig({
        upstreams: {
          fake: { base_url: up.url, api_key_env: 'FAKE_PROVIDER_KEY',
            timeouts: { connect: '2s', first_token: '5s', idle: '5s', total: '20s' } },
          quick: { base_url: up.url, api_key_env: 'FAKE_PROVIDER_KEY',
            timeouts: { connect: '2s', first_token: '600ms', idle: '600ms', total: '10s' } },
          down: { base_url: `http://127.0.0.1:${down}`, api_key_env: 'FAKE_PROVIDER_KEY' },
        },
        models: {
          'deepseek-chat': { upstream: 'fake' },
          'public-chat': { upstream: 'fake', model: 'deepseek-chat' },
          'quick-chat': { upstream: 'quick', model: 'deepseek-chat' },
          'down-chat': { upstream: 'down' },
        },
      }),
      env: { FAKE_PROVIDER_KEY: PROVIDER_KEY },
    });
  });

  after(async () => {
    await up?.close();
    await gw?.kill(); // last: it throws if the gateway crashed during the tests
  });

  const post = async (body, headers = {}, path = '/v1/chat/completions', timeoutMs = 10000) => {
    const r = await curl(gw.url + path, { body: typeof body === 'string' ? body : JSON.stringify(body), headers, timeoutMs });
    seen.push(r);
    return r;
  };
  const chat = (extra = {}) => ({ model: 'deepseek-chat', messages: [{ role: 'user', content: 'hi' }], ...extra });
  const errorOf = (r, status, code) => {
    assert.equal(r.status, status, `expected ${status}, got ${r.status}: ${r.body}`);
    assert.match(r.headers['content-type'] || '', /^application\/json/, `a JSON error, not: ${r.headers['content-type']}`);
    const j = JSON.parse(r.body);
    assert.equal(typeof j.error?.message, 'string', r.body);
    if (code !== undefined) assert.equal(j.error.code, code, r.body);
    return j.error;
  };
  // The SSE body must be well-formed: only data events, each JSON or [DONE], [DONE] exactly once and last.
  const sseOf = (r) => {
    assert.equal(r.status, 200, r.body);
    assert.match(r.headers['content-type'], /^text\/event-stream/);
    const { events, comments } = parseSse(r.body);
    assert.deepEqual(comments, [], 'SSE comments must not reach the client');
    assert.equal(events.at(-1), '[DONE]', `stream must end with [DONE]: ${r.body.slice(-300)}`);
    assert.equal(r.body, events.map((e) => `data: ${e}\n\n`).join(''), 'nothing but data events');
    assert.equal(events.filter((e) => e === '[DONE]').length, 1);
    return events.slice(0, -1).map((e) => JSON.parse(e));
  };
  const content = (chunks) => chunks.map((c) => c.choices?.[0]?.delta?.content ?? '').join('');
  const rid = (() => { let n = 0; return (p) => `${p}-${++n}`; })();

  test('non-stream: the upstream JSON is relayed as is, with usage in the access log', T, async () => {
    const id = rid('ns');
    const r = await post(chat(), { 'x-request-id': id });
    assert.equal(r.status, 200, r.body);
    assert.match(r.headers['content-type'], /^application\/json/);
    assert.equal(Number(r.headers['content-length']), Buffer.byteLength(r.body));
    assert.deepEqual(r.json(), {
      id: 'chatcmpl-test', object: 'chat.completion', created: 1700000000, model: 'deepseek-chat',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Hello from upstream' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 },
    });
    const l = await gw.logFor(id);
    assert.equal(l.status, 200);
    assert.equal(l.stream, false);
    assert.equal(l.failure, 'none');
    assert.equal(l.upstream, 'fake');
    assert.equal(l.prompt_tokens, 5);
    assert.equal(l.completion_tokens, 3);
    assert.equal(up.requests.at(-1).headers.accept, 'application/json');
  });

  test('stream: every chunk is relayed as valid SSE ending in [DONE]', T, async () => {
    const id = rid('st');
    const r = await post(chat({ stream: true }), { 'x-request-id': id, 'x-test-chunks': '6' });
    assert.equal(r.headers['transfer-encoding'], 'chunked');
    assert.equal(r.headers['cache-control'], 'no-cache');
    const chunks = sseOf(r);
    assert.equal(chunks.length, 7);
    assert.equal(content(chunks), 'tok0 tok1 tok2 tok3 tok4 tok5 ');
    assert.equal(chunks.at(-1).choices[0].finish_reason, 'stop');
    for (const c of chunks) assert.equal(c.object, 'chat.completion.chunk');
    assert.equal(up.requests.at(-1).headers.accept, 'text/event-stream');
    const l = await gw.logFor(id);
    assert.equal(l.status, 200);
    assert.equal(l.stream, true);
    assert.equal(l.failure, 'none');
    assert.ok(Number.isInteger(l.ttft_ms));
    // Header + chunk framing on top of the SSE text curl shows us.
    const bodyBytes = Buffer.byteLength(r.body);
    assert.ok(l.bytes_out > bodyBytes && l.bytes_out < bodyBytes + 600, `bytes_out ${l.bytes_out} vs body ${bodyBytes}`);
  });

  test('stream: chunks are forwarded as they arrive, not buffered until the end', T, async () => {
    const r = await httpRequest(`${gw.url}/v1/chat/completions`, {
      body: JSON.stringify(chat({ stream: true })),
      headers: { 'x-test-chunks': '5', 'x-test-gap-ms': '300' },
    });
    assert.equal(r.status, 200, r.body);
    assert.ok(r.elapsedMs >= 1400, `the upstream takes ~1.5 s (took ${r.elapsedMs})`);
    const firstTok = r.arrivals.find((a) => a.text.includes('tok0'));
    assert.ok(firstTok, 'tok0 arrived');
    assert.ok(firstTok.ms < 700, `first chunk arrived after ${firstTok.ms} ms; it should not wait for the stream end`);
    const lastTokAt = r.arrivals.find((a) => a.text.includes('tok4')).ms;
    assert.ok(lastTokAt - firstTok.ms >= 900, 'chunks are spread over time as the upstream sent them');
  });

  test('stream_options.include_usage: the usage chunk is relayed and logged', T, async () => {
    const id = rid('usage');
    const r = await post(chat({ stream: true, stream_options: { include_usage: true } }), { 'x-request-id': id, 'x-test-chunks': '3' });
    const chunks = sseOf(r);
    assert.deepEqual(chunks.at(-1).usage, { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 });
    assert.deepEqual(chunks.at(-1).choices, []);
    const l = await gw.logFor(id);
    assert.equal(l.prompt_tokens, 5);
    assert.equal(l.completion_tokens, 3);
  });

  // Odd spacing, unicode, escapes, a "model" inside a string and inside a nested object: only the top-level
  // value may change, every other byte must reach the upstream untouched.
  const weird = (model, stream) => `{ "messages" : [ {"role":"user","content":"say \\"model\\": \\"x\\" — ünïcødé 🚀 \\u00e9"} ],\n`
    + `  "metadata": {"model": "inner"}, "temperature":0.70,\t"model" :  "${model}" ,"stream": ${stream}, "n":1 }`;

  test('model rewrite: the upstream sees the mapped id and an otherwise byte-identical body', T, async () => {
    for (const stream of [false, true]) {
      const body = weird('public-chat', stream);
      const r = await post(body);
      assert.equal(r.status, 200, r.body);
      const got = up.requests.at(-1);
      let want = body.replace('"public-chat"', '"deepseek-chat"');
      // The ledger needs stream usage: the gateway asks for it (and strips the extra chunk again).
      if (stream) want = want.replace('{', '{"stream_options":{"include_usage":true},');
      assert.equal(got.body, want);
      assert.equal(got.parsed.model, 'deepseek-chat');
      assert.equal(got.parsed.metadata.model, 'inner');
      assert.equal(Number(got.headers['content-length']), Buffer.byteLength(got.body));
    }
    const id = rid('rw');
    await post(chat({ model: 'public-chat' }), { 'x-request-id': id });
    assert.equal((await gw.logFor(id)).model, 'public-chat', 'the access log names the public model');
  });

  test('no rewrite needed: the body is forwarded byte for byte', T, async () => {
    const body = weird('deepseek-chat', false);
    const r = await post(body);
    assert.equal(r.status, 200, r.body);
    assert.equal(up.requests.at(-1).body, body);
  });

  test('non-stream keep-alive blank lines never reach the client and are not the first token', T, async () => {
    const id = rid('kaj');
    const r = await post(chat(), { 'x-request-id': id, 'x-test-keepalives': '6', 'x-test-gap-ms': '60' });
    assert.equal(r.status, 200, r.body);
    assert.equal(r.body[0], '{', 'the body starts with JSON, not with blank lines');
    assert.equal(r.json().choices[0].message.content, 'Hello from upstream');
    assert.equal(Number(r.headers['content-length']), Buffer.byteLength(r.body));
    const l = await gw.logFor(id);
    assert.equal(l.keepalives, 6);
    assert.ok(l.ttft_ms >= 300, `ttft ${l.ttft_ms} ms must count from the request, not from the first blank line`);
  });

  test('stream ": keep-alive" comments never reach the client and are not the first token', T, async () => {
    const id = rid('kas');
    const r = await post(chat({ stream: true }), {
      'x-request-id': id, 'x-test-keepalives': '6', 'x-test-gap-ms': '60', 'x-test-mode': 'interleave',
    });
    const chunks = sseOf(r);
    assert.ok(!r.body.includes('keep-alive'), r.body);
    assert.equal(content(chunks), 'tok0 tok1 tok2 tok3 ');
    const l = await gw.logFor(id);
    assert.equal(l.keepalives, 6 + 4);
    assert.ok(l.ttft_ms >= 300, `ttft ${l.ttft_ms} ms must not be the first keep-alive comment`);
    assert.equal(l.failure, 'none');
  });

  test('first-token deadline fires although the upstream keeps sending keep-alives', T, async () => {
    for (const [stream, mark] of [[false, 'ftj'], [true, 'fts']]) {
      const id = rid(mark);
      const started = Date.now();
      const r = await post(chat({ model: 'quick-chat', stream }), {
        'x-request-id': id, 'x-test-keepalives': '60', 'x-test-gap-ms': '50',
      });
      const took = Date.now() - started;
      errorOf(r, 504, 'upstream_first_token_timeout');
      assert.ok(took >= 550 && took < 2000, `deadline 600 ms, answered after ${took} ms`);
      const l = await gw.logFor(id);
      assert.equal(l.failure, 'upstream_first_token_timeout');
      assert.equal(l.status, 504);
      assert.equal(l.ttft_ms, null);
      assert.ok(l.keepalives >= 8, `keep-alives seen: ${l.keepalives}`);
      // The gateway gives up on the upstream request too.
      const rec = up.requests.find((q) => q.headers['x-request-id'] === id);
      for (let i = 0; i < 100 && !rec.closedEarly; i++) await new Promise((res) => setTimeout(res, 10));
      assert.ok(rec.closedEarly, 'the upstream request was closed after the deadline');
    }
  });

  test('an upstream that never answers hits the first-token deadline', T, async () => {
    errorOf(await post(chat({ model: 'quick-chat' }), { 'x-test-mode': 'hang' }), 504, 'upstream_first_token_timeout');
  });

  test('a non-stream body of only blank lines is a 502, never a 200', T, async () => {
    const id = rid('blank');
    const r = await post(chat(), { 'x-request-id': id, 'x-test-mode': 'blank-only', 'x-test-keepalives': '4' });
    errorOf(r, 502, 'upstream_empty_response');
    assert.equal((await gw.logFor(id)).failure, 'upstream_empty_response');
    errorOf(await post(chat(), { 'x-test-mode': 'blank-only' }), 502, 'upstream_empty_response');
  });

  test('a truncated non-stream JSON body is a 502', T, async () => {
    errorOf(await post(chat(), { 'x-test-mode': 'bad-json' }), 502, 'upstream_protocol_error');
  });

  test('a stream of only keep-alive comments that ends is a 502 JSON error', T, async () => {
    const r = await post(chat({ stream: true }), { 'x-test-mode': 'no-done', 'x-test-chunks': '0', 'x-test-keepalives': '3' });
    errorOf(r, 502, 'upstream_empty_response');
  });

  const tailError = (chunks) => {
    const last = chunks.at(-1);
    assert.equal(typeof last.error, 'object', `the last event before [DONE] is an error: ${JSON.stringify(last)}`);
    assert.equal(typeof last.error.message, 'string');
    return last.error;
  };

  test('upstream reset mid-stream: the client gets what arrived, an error event, then [DONE]', T, async () => {
    const id = rid('rm');
    const r = await post(chat({ stream: true }), { 'x-request-id': id, 'x-test-mode': 'reset-mid', 'x-test-chunks': '5' });
    const chunks = sseOf(r);
    assert.equal(content(chunks.slice(0, -1)), 'tok0 tok1 ');
    assert.equal(tailError(chunks).code, 'upstream_reset');
    const l = await gw.logFor(id);
    assert.equal(l.status, 200);
    assert.equal(l.failure, 'upstream_reset');
  });

  test('upstream stall mid-stream: the idle deadline ends it with an error event and [DONE]', T, async () => {
    const started = Date.now();
    const r = await post(chat({ model: 'quick-chat', stream: true }), { 'x-test-mode': 'stall-mid', 'x-test-chunks': '5' });
    const took = Date.now() - started;
    const chunks = sseOf(r);
    assert.equal(content(chunks.slice(0, -1)), 'tok0 tok1 ');
    assert.equal(tailError(chunks).code, 'upstream_idle_timeout');
    assert.ok(took >= 550 && took < 2500, `idle deadline 600 ms, took ${took} ms`);
  });

  test('a stream that ends without [DONE] gets an error event and a [DONE]', T, async () => {
    const id = rid('nd');
    const r = await post(chat({ stream: true }), { 'x-request-id': id, 'x-test-mode': 'no-done', 'x-test-chunks': '3' });
    const chunks = sseOf(r);
    assert.equal(content(chunks.slice(0, -1)), 'tok0 tok1 tok2 ');
    assert.equal(chunks.length, 4);
    assert.equal(tailError(chunks).code, 'upstream_reset');
    assert.notEqual((await gw.logFor(id)).failure, 'none');
  });

  // An upstream that resets after it has read the whole request may already be generating (and billing) it.
  // Replaying a POST then runs and bills it twice, so a reset after the request was sent must not be retried.
  test('an upstream reset after receiving the request is a 502 and the request is sent only once', T, async () => {
    for (const warm of [false, true]) {
      if (warm) assert.equal((await post(chat())).status, 200); // leaves a pooled keep-alive connection behind
      const id = rid(warm ? 'reset-warm' : 'reset-cold');
      const r = await post(chat(), { 'x-request-id': id, 'x-test-mode': 'reset' });
      errorOf(r, 502, 'upstream_reset');
      const copies = up.requests.filter((q) => q.headers['x-request-id'] === id).length;
      assert.equal(copies, 1, `the upstream received the same request ${copies} times (${warm ? 'reused' : 'fresh'} connection)`);
    }
  });

  test('upstream 503 with Retry-After is forwarded (stream or not) with its OpenAI error body', T, async () => {
    for (const stream of [false, true]) {
      const r = await post(chat({ stream }), { 'x-test-mode': 'status', 'x-test-status': '503', 'x-test-retry-after': '7' });
      const e = errorOf(r, 503);
      assert.equal(r.headers['retry-after'], '7');
      assert.equal(e.message, 'upstream says 503', 'an OpenAI-shaped upstream error body is passed on');
    }
    const rl = await post(chat(), { 'x-test-mode': 'status', 'x-test-status': '429', 'x-test-retry-after': '2' });
    errorOf(rl, 429);
    assert.equal(rl.headers['retry-after'], '2');
    const bad = await post(chat(), { 'x-test-mode': 'status', 'x-test-status': '400' });
    assert.equal(errorOf(bad, 400).message, 'upstream says 400');
  });

  test('a non-JSON upstream error body is wrapped in an OpenAI error', T, async () => {
    const r = await post(chat(), { 'x-test-mode': 'status', 'x-test-status': '500', 'x-test-error-body': '<html>Internal oops</html>' });
    const e = errorOf(r, 500, 'upstream_server_error');
    assert.ok(!r.body.includes('<html>'));
    assert.match(e.message, /500/);
  });

  test('upstream 401/403 (bad provider key) becomes a 502 that leaks nothing', T, async () => {
    for (const status of ['401', '403']) {
      const id = rid('auth');
      const r = await post(chat(), { 'x-request-id': id, 'x-test-mode': 'status', 'x-test-status': status, 'x-test-echo-auth': '1' });
      const e = errorOf(r, 502, 'upstream_auth_rejected');
      assert.ok(!r.body.includes(PROVIDER_KEY) && !r.body.includes('you sent'), r.body);
      assert.match(e.message, /credentials|key/);
      assert.equal((await gw.logFor(id)).failure, 'upstream_auth_rejected');
    }
  });

  test('upstream down (closed port) is a fast 502 with a JSON body, stream or not', T, async () => {
    for (const stream of [false, true]) {
      const id = rid('down');
      const started = Date.now();
      const r = await post(chat({ model: 'down-chat', stream }), { 'x-request-id': id });
      errorOf(r, 502, 'upstream_connect_failed');
      assert.ok(Date.now() - started < 2000);
      const l = await gw.logFor(id);
      assert.equal(l.status, 502);
      assert.equal(l.failure, 'upstream_connect_failed');
      assert.equal(l.upstream, 'down');
    }
  });

  test('the provider key appears in no response and no log line', T, async () => {
    assert.ok(seen.length >= 25);
    assert.deepEqual(findLeaks(PROVIDER_KEY, gw, seen), []);
    assert.equal(gw.exit, null, `the gateway exited: ${gw.stderr}`);
  });
});
