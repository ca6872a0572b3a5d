// Response cache and request coalescing against `sluice sim` (issue 6): miss → hit in both shapes (a stream
// filling the cache answers a non-stream request and the reverse), a replayed stream parsed by the openai SDK,
// Cache-Control and temperature bypasses, 100 identical concurrent requests sharing one upstream call (stream
// and non-stream), a coalesced stream surviving its leader's client leaving, and the usage chunk stripped for
// clients that did not ask for it.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import OpenAI from 'openai';
import { startGateway, baseConfig, tempDir, parseSse, httpRequest, sleep } from './lib/gateway.mjs';
import { startSim, simStats } from './lib/sim.mjs';
import { startFakeUpstream } from './lib/fake_upstream.mjs';

const T = { timeout: 25_000 };

describe('response cache and coalescing', () => {
  let sim;
  let gw;
  let client;
  let n = 0;
  // A fresh prompt per test, so tests do not hit each other's entries.
  const prompt = (tag) => [{ role: 'user', content: `cache test ${tag} ${++n} ${Date.now()}` }];
  const post = (body, headers = {}) => fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body),
  });
  const requests = async () => (await simStats(sim)).requests;

  before(async () => {
    // Slow enough that 100 concurrent requests overlap the first one's upstream call.
    sim = await startSim(['--seed', '3', '--ttft', '400ms', '--itl', '10ms', '--output-tokens', '30', '--slots', '256']);
    const cfg = baseConfig({ upstreamUrl: sim.base, workers: 2 });
    cfg.ledger = { path: path.join(tempDir(), 'ledger.db') };
    gw = await startGateway({ config: cfg });
    client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0, timeout: 15000 });
  });

  after(async () => {
    await sim?.stop();
    await gw?.stop();
  });

  test('non-stream miss then hit; the same answer serves a stream (SDK) with usage', T, async () => {
    const messages = prompt('json');
    const before = await requests();
    const r1 = await post({ model: 'deepseek-chat', messages, temperature: 0 });
    assert.equal(r1.status, 200);
    assert.equal(r1.headers.get('x-sluice-cache'), 'miss');
    const a = await r1.json();
    const r2 = await post({ model: 'deepseek-chat', messages, temperature: 0.0, user: 'someone else' });
    assert.equal(r2.headers.get('x-sluice-cache'), 'hit');
    assert.deepEqual(await r2.json(), a);

    const { data: stream, response } = await client.chat.completions
      .create({ model: 'deepseek-chat', messages, temperature: 0, stream: true, stream_options: { include_usage: true } })
      .withResponse();
    assert.equal(response.headers.get('x-sluice-cache'), 'hit');
    let content = '';
    let usage = null;
    let finish = null;
    for await (const chunk of stream) {
      assert.equal(chunk.object, 'chat.completion.chunk');
      if (chunk.usage) usage = chunk.usage;
      for (const c of chunk.choices) {
        content += c.delta?.content ?? '';
        finish = c.finish_reason ?? finish;
      }
    }
    assert.equal(content, a.choices[0].message.content);
    assert.equal(finish, a.choices[0].finish_reason);
    assert.deepEqual(usage, a.usage);
    assert.equal(await requests(), before + 1, 'one upstream call for three answers');
  });

  test('a stream fills the cache; the replay is byte-identical and a JSON hit is rebuilt from it', T, async () => {
    const messages = prompt('sse');
    const body = { model: 'deepseek-chat', messages, temperature: 0, stream: true, stream_options: { include_usage: true } };
    const r1 = await post(body);
    assert.equal(r1.headers.get('x-sluice-cache'), 'miss');
    const live = await r1.text();
    const r2 = await post(body);
    assert.equal(r2.headers.get('x-sluice-cache'), 'hit');
    assert.match(r2.headers.get('content-type'), /^text\/event-stream/);
    assert.equal(await r2.text(), live, 'replay is the relayed stream byte for byte');

    const sdk = await client.chat.completions.create({ model: 'deepseek-chat', messages, temperature: 0 });
    const { events } = parseSse(live);
    assert.equal(events.at(-1), '[DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e));
    const text = chunks.flatMap((c) => c.choices.map((x) => x.delta.content ?? '')).join('');
    assert.equal(sdk.object, 'chat.completion');
    assert.equal(sdk.choices[0].message.content, text);
    assert.deepEqual(sdk.usage, chunks.at(-1).usage);
  });

  test('no usage chunk for a client that did not ask (the gateway asked upstream for it)', T, async () => {
    const messages = prompt('strip');
    for (const expect of ['miss', 'hit']) {
      const r = await post({ model: 'deepseek-chat', messages, temperature: 0, stream: true });
      assert.equal(r.headers.get('x-sluice-cache'), expect);
      const { events } = parseSse(await r.text());
      assert.equal(events.at(-1), '[DONE]');
      for (const e of events.slice(0, -1)) {
        const c = JSON.parse(e);
        assert.ok(c.choices.length > 0, `no usage-only chunk (${expect}): ${e}`);
      }
    }
  });

  test('bypass: temperature not 0, Cache-Control no-cache and no-store', T, async () => {
    const messages = prompt('bypass');
    const before = await requests();
    const r1 = await post({ model: 'deepseek-chat', messages });
    assert.equal(r1.headers.get('x-sluice-cache'), 'bypass');
    await r1.text();
    const r2 = await post({ model: 'deepseek-chat', messages });
    assert.equal(r2.headers.get('x-sluice-cache'), 'bypass');
    await r2.text();
    const det = { model: 'deepseek-chat', messages, temperature: 0 };
    const r3 = await post(det, { 'cache-control': 'no-store' });
    assert.equal(r3.headers.get('x-sluice-cache'), 'bypass');
    await r3.text();
    const r4 = await post(det);  // no-store stored nothing
    assert.equal(r4.headers.get('x-sluice-cache'), 'miss');
    await r4.text();
    const r5 = await post(det, { 'cache-control': 'no-cache' });
    assert.equal(r5.headers.get('x-sluice-cache'), 'bypass');
    await r5.text();
    const r6 = await post(det);
    assert.equal(r6.headers.get('x-sluice-cache'), 'hit');
    await r6.text();
    assert.equal(await requests(), before + 5);  // r1, r2, no-store, the miss, no-cache
  });

  for (const stream of [false, true]) {
    test(`100 identical concurrent ${stream ? 'stream' : 'non-stream'} requests → 1 upstream call`, T, async () => {
      const messages = prompt(`herd-${stream}`);
      const body = { model: 'deepseek-chat', messages, temperature: 0, stream };
      const before = await requests();
      const results = await Promise.all(Array.from({ length: 100 }, async () => {
        const r = await post(body);
        return { status: r.status, cache: r.headers.get('x-sluice-cache'), text: await r.text() };
      }));
      assert.equal(await requests(), before + 1, 'exactly one upstream call');
      const contents = results.map((r) => {
        assert.equal(r.status, 200);
        if (!stream) return JSON.parse(r.text).choices[0].message.content;
        const { events } = parseSse(r.text);
        assert.equal(events.at(-1), '[DONE]', 'every client got the whole stream');
        return events.slice(0, -1).map((e) => JSON.parse(e)).flatMap((c) => c.choices.map((x) => x.delta.content ?? '')).join('');
      });
      assert.ok(contents[0].length > 0);
      for (const c of contents) assert.equal(c, contents[0]);
      assert.equal(results.filter((r) => r.cache === 'miss').length + results.filter((r) => r.cache === 'hit').length, 100);
    });
  }

  test('the shared stream continues for a joiner after the leader\'s client leaves', T, async () => {
    const messages = prompt('leader-leaves');
    const body = JSON.stringify({ model: 'deepseek-chat', messages, temperature: 0, stream: true });
    const before = await simStats(sim);
    const leader = new AbortController();
    const lead = fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: leader.signal,
    }).then(async (r) => { const rd = r.body.getReader(); await rd.read(); leader.abort(); }).catch(() => {});
    await sleep(100);
    const joiner = await post(JSON.parse(body));
    assert.equal(joiner.headers.get('x-sluice-coalesced'), 'true');
    await lead;
    const { events } = parseSse(await joiner.text());
    assert.equal(events.at(-1), '[DONE]');
    assert.ok(events.length > 5);
    const afterStats = await simStats(sim);
    assert.equal(afterStats.requests, before.requests + 1);
    assert.equal(afterStats.streams_cancelled, before.streams_cancelled, 'upstream not cancelled');
  });
});

describe('stale answers as degradation', () => {
  test('expired entry served (X-Sluice-Cache: stale) only when every upstream failed', T, async () => {
    const sim = await startSim(['--seed', '5', '--ttft', '0', '--itl', '0', '--output-tokens', '8']);
    const cfg = baseConfig({ upstreamUrl: sim.base, timeouts: { connect: '500ms' } });
    cfg.cache = { ttl: '300ms', stale_ttl: '1h' };
    const gw = await startGateway({ config: cfg });
    try {
      const body = JSON.stringify({ model: 'deepseek-chat', messages: [{ role: 'user', content: 'stale?' }], temperature: 0 });
      const post = () => fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      const r1 = await post();
      assert.equal(r1.headers.get('x-sluice-cache'), 'miss');
      const a = await r1.json();
      await sleep(400);
      const r2 = await post();  // expired, upstream up: a fresh miss, not the stale copy
      assert.equal(r2.headers.get('x-sluice-cache'), 'miss');
      await r2.text();
      await sleep(400);
      await sim.stop();
      const r3 = await post();
      assert.equal(r3.status, 200);
      assert.equal(r3.headers.get('x-sluice-cache'), 'stale');
      const c = await r3.json();
      assert.equal(c.choices[0].message.content.length > 0, true);
      assert.equal(c.object, a.object);
    } finally {
      await sim.stop();
      await gw.stop();
    }
  });
});

describe('coalesced failure', () => {
  test('joiners get the leader\'s error; the upstream saw one request', T, async () => {
    const up = await startFakeUpstream();
    const gw = await startGateway({ config: baseConfig({ upstreamUrl: up.url, workers: 2, timeouts: { first_token: '1s' } }) });
    try {
      const body = JSON.stringify({ model: 'deepseek-chat', messages: [{ role: 'user', content: 'hang' }], temperature: 0 });
      const results = await Promise.all(Array.from({ length: 20 }, async () => {
        const r = await fetch(`${gw.url}/v1/chat/completions`, {
          method: 'POST', headers: { 'content-type': 'application/json', 'x-test-mode': 'hang' }, body,
        });
        return { status: r.status, body: await r.json() };
      }));
      assert.equal(up.requests.length, 1, 'one upstream call for 20 identical requests');
      for (const r of results) {
        assert.equal(r.status, 504);
        assert.deepEqual(r.body, results[0].body);
      }
      assert.equal(typeof results[0].body.error.message, 'string');
    } finally {
      await up.close();
      await gw.stop();
    }
  });
});
