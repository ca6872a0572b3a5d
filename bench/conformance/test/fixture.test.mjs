// The fixture itself: unbroken answers are what the runner expects, prefix completion continues exactly after
// the prefix (only on /beta), fault decisions are reproducible, and refusal really closes the port.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { expectedAnswer } from '../fixture/answer.mjs';
import { FixtureHost } from '../fixture/host.mjs';

const hosts = [];
after(() => hosts.forEach((h) => h.close()));

async function host(faults = {}, opts = {}) {
  const h = new FixtureHost({ name: `t${hosts.length}`, key: 'k', seed: 7, opts: { ttftMs: 1, itlMs: 0, ...opts } });
  hosts.push(h);
  await h.start(0);
  h.configure({ faults });
  return h;
}

const messages = [{ role: 'user', content: 'fixture self-test' }];
const post = (h, path, body, rid = 'r') => fetch(`http://127.0.0.1:${h.port}${path}`, {
  method: 'POST', headers: { authorization: 'Bearer k', 'x-request-id': rid, 'content-type': 'application/json' },
  body: JSON.stringify({ model: 'm', ...body }),
});

function sseText(raw) {
  const events = raw.split('\n\n').filter((e) => e.startsWith('data: ')).map((e) => e.slice(6));
  const chunks = events.filter((e) => e !== '[DONE]').map((e) => JSON.parse(e));
  return { events, chunks, text: chunks.map((c) => c.choices?.[0]?.delta?.content ?? '').join('') };
}

test('unbroken answers match expectedAnswer, stream and not, with and without max_tokens', async () => {
  const h = await host();
  for (const max_tokens of [undefined, 5]) {
    const want = expectedAnswer(messages, max_tokens);
    const j = await (await post(h, '/chat/completions', { messages, max_tokens })).json();
    assert.equal(j.choices[0].message.content, want.text);
    assert.equal(j.choices[0].finish_reason, want.finish);
    assert.equal(j.usage.completion_tokens, want.tokens);
    assert.equal(j.usage.prompt_cache_hit_tokens + j.usage.prompt_cache_miss_tokens, j.usage.prompt_tokens);
    const s = sseText(await (await post(h, '/v1/chat/completions', { messages, max_tokens, stream: true, stream_options: { include_usage: true } })).text());
    assert.equal(s.text, want.text);
    assert.equal(s.events.at(-1), '[DONE]');
    assert.deepEqual(s.chunks.at(-1).choices, []);
    assert.equal(s.chunks.at(-1).usage.completion_tokens, want.tokens);
  }
});

test('prefix completion continues after the prefix on /beta and is refused elsewhere', async () => {
  const h = await host();
  const want = expectedAnswer(messages);
  const cut = want.text.split(' ').slice(0, 4).join(' ');
  const prefixed = [...messages, { role: 'assistant', content: cut, prefix: true }];
  const j = await (await post(h, '/beta/chat/completions', { messages: prefixed })).json();
  assert.equal(cut + j.choices[0].message.content, want.text);
  assert.equal((await post(h, '/chat/completions', { messages: prefixed })).status, 400);
  const wrong = [...messages, { role: 'assistant', content: 'Not the answer', prefix: true }];
  await post(h, '/beta/chat/completions', { messages: wrong });
  assert.equal(h.stats.prefix_mismatch, 1);
  assert.equal(h.stats.prefix_without_beta, 1);
});

test('fault decisions depend on the request, not on arrival order', async () => {
  const a = await host({ http_503: 0.5 });
  const b = await host({ http_503: 0.5 });
  b.name = a.name;  // same name and seed: the same decisions
  const ids = Array.from({ length: 40 }, (_, i) => `rid-${i}`);
  const ra = [];
  for (const id of ids) ra.push((await post(a, '/chat/completions', { messages }, id)).status);
  const rb = await Promise.all([...ids].reverse().map(async (id) => (await post(b, '/chat/completions', { messages }, id)).status));
  assert.deepEqual(ra, rb.reverse());
  const fails = ra.filter((s) => s === 503).length;
  assert.ok(fails > 8 && fails < 32, `about half fail (${fails}/40)`);
});

test('insufficient_system_resource cuts after a few tokens; error_event ends without [DONE]', async () => {
  const h = await host({ insufficient: 1 });
  const want = expectedAnswer(messages);
  const j = await (await post(h, '/chat/completions', { messages })).json();
  assert.equal(j.choices[0].finish_reason, 'insufficient_system_resource');
  assert.ok(want.text.startsWith(j.choices[0].message.content) && j.usage.completion_tokens >= 2 && j.usage.completion_tokens <= 8);
  h.configure({ faults: { error_event: 1 } });
  const s = sseText(await (await post(h, '/chat/completions', { messages, stream: true })).text());
  assert.ok(s.chunks.at(-1).error);
  assert.notEqual(s.events.at(-1), '[DONE]');
  assert.ok(want.text.startsWith(s.text) && s.text.length > 0);
});

test('reset_mid_stream delivers some tokens, then resets', async () => {
  const h = await host({ reset_mid_stream: 1 });
  const r = await post(h, '/chat/completions', { messages, stream: true });
  let got = '';
  await assert.rejects(async () => { for await (const c of r.body) got += Buffer.from(c).toString(); });
  assert.ok(sseText(got).text.split(' ').length >= 2);
});

test('refused: at 100 % nothing listens on the port; back at 0 %', async () => {
  const h = await host({ refused: 1 });
  const connect = () => new Promise((resolve) => {
    const s = net.connect(h.port, '127.0.0.1');
    s.once('connect', () => { s.destroy(); resolve('connected'); });
    s.once('error', (e) => resolve(e.code));
  });
  assert.equal(await connect(), 'ECONNREFUSED');
  h.configure({ faults: {} });
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(await connect(), 'connected');
});
