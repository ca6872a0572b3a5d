// `sluice sim` under load: slots + FIFO queue with DeepSeek keep-alives, max-wait give-up, overload
// policies (503, 429 with/without Retry-After, account concurrency) and disconnect accounting.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startSim, curl, simStats, chatBody } from './lib/sim.mjs';

const T = { timeout: 20000 };
const sims = [];
const start = async (args) => { const s = await startSim(args); sims.push(s); return s; };
after(async () => { await Promise.all(sims.map((s) => s.stop())); });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

test('full slots: request waits with blank-line keep-alives, then gets its JSON', T, async () => {
  const sim = await start(['--slots', '1', '--ttft', '600ms', '--itl', '0', '--keepalive-interval', '100ms', '--output-tokens', '4']);
  const first = curl(['-d', chatBody(), `${sim.base}/chat/completions`]);
  await sleep(100);
  const second = curl(['-d', chatBody(), `${sim.base}/chat/completions`]);
  await sleep(200);
  const m = await (await fetch(`${sim.base}/metrics`)).text();
  assert.match(m, /^vllm:num_requests_running\{model_name="deepseek-chat"\} 1$/m);
  assert.match(m, /^vllm:num_requests_waiting\{model_name="deepseek-chat"\} 1$/m);
  const [a, b] = await Promise.all([first, second]);
  // Both bodies start with keep-alive newlines (the second waited in the queue, then for its own TTFT).
  const lead = (s) => /^\n*/.exec(s)[0].length;
  assert.ok(lead(b.stdout) > lead(a.stdout), `${lead(a.stdout)} vs ${lead(b.stdout)}`);
  assert.match(b.stdout, /^\n+\{"id":/);
  assert.equal(JSON.parse(b.stdout.trimStart()).object, 'chat.completion');
  const stats = await simStats(sim);
  assert.equal(stats.queued, 1);
  assert.ok(stats.keepalives_sent >= 8);
});

test('naive client breaks on the give-up body while the wire matches DeepSeek (only blank lines)', T, async () => {
  const sim = await start(['--slots', '1', '--ttft', '5s', '--max-wait', '450ms', '--keepalive-interval', '100ms']);
  const holder = curl(['-m', '3', '-d', chatBody(), `${sim.base}/chat/completions`]);
  await sleep(100);
  const r = await curl(['-i', '-d', chatBody(), `${sim.base}/chat/completions`]);
  const [head, body] = r.stdout.split('\r\n\r\n');
  assert.match(head, /^HTTP\/1\.1 200 OK/);
  assert.match(head, /content-type: application\/json/i);
  assert.match(body, /^\n{4,5}$/);  // one "\n" per interval until max wait, then the server closes
  assert.throws(() => JSON.parse(body), SyntaxError);  // what every naive client does
  // The official SDK fails too: a 200 whose body is not JSON.
  const client = new OpenAI({ baseURL: sim.base, apiKey: 'k', maxRetries: 0 });
  await assert.rejects(client.chat.completions.create({ model: 'deepseek-chat', messages: [{ role: 'user', content: 'x' }] }));
  const stats = await simStats(sim);
  assert.equal(stats.queue_timeouts, 2);
  await holder;
});

test('stream waits with ": keep-alive" comments; the SDK ignores them, a naive SSE parser chokes', T, async () => {
  const sim = await start(['--ttft', '0', '--itl', '0', '--output-tokens', '3']);
  const fault = 'keepalive=3,keepalive-interval=50ms';
  const r = await curl(['-N', '-H', `x-sim-fault: ${fault}`, '-d', chatBody({ stream: true }), `${sim.base}/chat/completions`]);
  assert.ok(r.stdout.startsWith(': keep-alive\n\n: keep-alive\n\n: keep-alive\n\ndata: {'), JSON.stringify(r.stdout.slice(0, 80)));
  // naive: every non-empty line is JSON after stripping "data: "
  assert.throws(() => r.stdout.split('\n').filter((l) => l && l !== 'data: [DONE]').forEach((l) => JSON.parse(l.replace(/^data: /, ''))));
  const client = new OpenAI({ baseURL: sim.base, apiKey: 'k', maxRetries: 0, defaultHeaders: { 'x-sim-fault': fault } });
  let text = '';
  for await (const c of await client.chat.completions.create({ model: 'deepseek-chat', stream: true, messages: [{ role: 'user', content: 'Hello there' }] })) {
    text += c.choices[0]?.delta?.content ?? '';
  }
  assert.equal(text.split(' ').length, 3);
  // non-stream: leading newlines, then JSON (JSON.parse tolerates leading whitespace; the SDK too)
  const ns = await curl(['-H', `x-sim-fault: ${fault}`, '-d', chatBody(), `${sim.base}/chat/completions`]);
  assert.match(ns.stdout, /^\n\n\n\{"id"/);
  // give-up on request: stream just ends, no [DONE]
  const g = await curl(['-N', '-H', 'x-sim-fault: keepalive=2,keepalive-interval=20ms,give-up', '-d', chatBody({ stream: true }), `${sim.base}/chat/completions`]);
  assert.equal(g.stdout, ': keep-alive\n\n: keep-alive\n\n');
});

test('overload policy 503 with Retry-After, 429 with and without', T, async () => {
  for (const [policy, status, ra] of [['503', 503, true], ['429', 429, false], ['429-retry-after', 429, true]]) {
    const sim = await start(['--slots', '1', '--ttft', '2s', '--overload', policy]);
    const holder = curl(['-m', '1', '-d', chatBody(), `${sim.base}/chat/completions`]);
    await sleep(150);
    const r = await curl(['-i', '-d', chatBody(), `${sim.base}/chat/completions`]);
    assert.match(r.stdout, new RegExp(`^HTTP/1.1 ${status}`));
    assert.equal(/retry-after: 1/i.test(r.stdout), ra, policy);
    const err = JSON.parse(r.stdout.split('\r\n\r\n')[1]).error;
    if (status === 503) assert.match(err.message, /^Server overloaded/);
    assert.equal(err.type, status === 503 ? 'server_error' : 'rate_limit_error');
    await holder;
    assert.equal((await simStats(sim)).overload_rejections, 1);
  }
});

test('account concurrency limit answers 429', T, async () => {
  const sim = await start(['--slots', '10', '--ttft', '1s', '--concurrency-limit', '1']);
  const holder = curl(['-m', '2', '-d', chatBody(), `${sim.base}/chat/completions`]);
  await sleep(150);
  const r = await curl(['-w', '\n%{http_code}', '-d', chatBody(), `${sim.base}/chat/completions`]);
  assert.match(r.stdout, /concurrency limit of 1/);
  assert.ok(r.stdout.endsWith('\n429'));
  await holder;
});

test('client leaving the queue is counted and frees its place', T, async () => {
  const sim = await start(['--slots', '1', '--ttft', '800ms', '--keepalive-interval', '100ms']);
  const holder = curl(['-d', chatBody(), `${sim.base}/chat/completions`]);
  await sleep(100);
  await curl(['-m', '0.3', '-d', chatBody(), `${sim.base}/chat/completions`]);  // gives up after 300 ms
  await sleep(100);
  let s = await simStats(sim);
  assert.equal(s.queue_abandoned, 1);
  assert.equal(s.client_disconnects, 1);
  assert.equal(s.waiting, 0);
  const h = await holder;
  assert.equal(JSON.parse(h.stdout).object, 'chat.completion');
  s = await simStats(sim);
  assert.equal(s.running, 0);
});

test('5 concurrent streams through 2 slots all complete in FIFO order', T, async () => {
  const sim = await start(['--slots', '2', '--ttft', '100ms', '--itl', '5ms', '--output-tokens', '10', '--keepalive-interval', '50ms']);
  const client = new OpenAI({ baseURL: sim.base, apiKey: 'k', maxRetries: 0 });
  const done = [];
  await Promise.all([0, 1, 2, 3, 4].map(async (i) => {
    await sleep(i * 20);
    const s = await client.chat.completions.create({ model: 'deepseek-chat', stream: true, messages: [{ role: 'user', content: `n${i}` }] });
    let n = 0;
    for await (const c of s) n += c.choices[0]?.delta?.content ? 1 : 0;
    assert.equal(n, 10);
    done.push(i);
  }));
  assert.deepEqual(done.slice(0, 2).sort(), [0, 1]);
  const st = await simStats(sim);
  assert.equal(st.success_stop, 5);
  assert.equal(st.queued, 3);
});
