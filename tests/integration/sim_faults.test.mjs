// `sluice sim` fault injection: x-sim-fault header (precise) and scenario timelines (YAML phases).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import { startSim, simStartFailure, curl, simStats, chatBody } from './lib/sim.mjs';

const T = { timeout: 20000 };
let sim;
const extra = [];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
before(async () => { sim = await startSim(['--ttft', '0', '--itl', '0', '--output-tokens', '10']); });
after(async () => { await Promise.all([sim, ...extra].map((s) => s?.stop())); });

const withFault = (fault, body = chatBody(), args = []) =>
  curl([...args, '-H', `x-sim-fault: ${fault}`, '-d', body, `${sim.base}/chat/completions`]);

test('status and retry-after from the header', T, async () => {
  const r = await withFault('status=503,retry-after=2s', chatBody(), ['-i']);
  assert.match(r.stdout, /^HTTP\/1\.1 503/);
  assert.match(r.stdout, /retry-after: 2\r\n/i);
  assert.match(r.stdout, /"type":"server_error"/);
  const client = new OpenAI({ baseURL: sim.base, apiKey: 'k', maxRetries: 0, defaultHeaders: { 'x-sim-fault': 'status=429' } });
  await assert.rejects(client.chat.completions.create({ model: 'deepseek-chat', messages: [{ role: 'user', content: 'x' }] }), (e) => e.status === 429);
});

test('bad fault headers are 400 OpenAI errors', T, async () => {
  for (const h of ['bogus=1', 'status=200', 'reset-after=x', 'give-up=1', 'ttft=soon', 'a,,b']) {
    const r = await withFault(h, chatBody(), ['-w', '\n%{http_code}']);
    const [json, code] = r.stdout.split('\n');
    assert.equal(code, '400', h);
    assert.match(JSON.parse(json).error.message, /^invalid x-sim-fault header: /);
  }
});

test('reset before headers: curl sees an empty reply / reset', T, async () => {
  const r = await withFault('reset-before-headers');
  assert.ok([52, 56].includes(r.code), String(r.code));
});

test('reset mid-stream after N chunks', T, async () => {
  const r = await withFault('reset-after=3', chatBody({ stream: true }), ['-N']);
  assert.equal(r.code, 56);  // recv failure: connection reset
  assert.equal((r.stdout.match(/"content":"[^"]/g) ?? []).length, 3);
  assert.ok(!r.stdout.includes('[DONE]'));
  const client = new OpenAI({ baseURL: sim.base, apiKey: 'k', maxRetries: 0, defaultHeaders: { 'x-sim-fault': 'reset-after=2' } });
  await assert.rejects(async () => {
    for await (const c of await client.chat.completions.create({ model: 'deepseek-chat', stream: true, messages: [{ role: 'user', content: 'x' }] })) void c;
  });
});

test('truncate-after: finish_reason insufficient_system_resource', T, async () => {
  const r = JSON.parse((await withFault('truncate-after=4')).stdout);
  assert.equal(r.choices[0].finish_reason, 'insufficient_system_resource');
  assert.equal(r.usage.completion_tokens, 4);
  const s = await withFault('truncate-after=2', chatBody({ stream: true }), ['-N']);
  assert.match(s.stdout, /"finish_reason":"insufficient_system_resource"/);
  assert.ok(s.stdout.endsWith('data: [DONE]\n\n'));
});

test('malformed chunk after N chunks breaks JSON parsing of that event', T, async () => {
  const r = await withFault('malformed-after=2', chatBody({ stream: true }), ['-N']);
  const events = r.stdout.split('\n\n').filter((e) => e.startsWith('data: ') && e !== 'data: [DONE]');
  const bad = events.filter((e) => { try { JSON.parse(e.slice(6)); return false; } catch { return true; } });
  assert.equal(bad.length, 1);
  assert.equal(events.indexOf(bad[0]), 3);  // role chunk + 2 content chunks, then the broken one
  const ns = await withFault('malformed-after=0');
  assert.throws(() => JSON.parse(ns.stdout));
});

test('stall mid-stream: no bytes; the client giving up is counted as a cancelled stream', T, async () => {
  const before = await simStats(sim);
  const t0 = Date.now();
  const r = await withFault('stall-after=2', chatBody({ stream: true }), ['-N', '-m', '0.5']);
  assert.equal(r.code, 28);  // curl timeout
  assert.ok(Date.now() - t0 < 2000);
  assert.equal((r.stdout.match(/"content":"[^"]/g) ?? []).length, 2);
  await sleep(100);
  const after = await simStats(sim);
  assert.equal(after.streams_cancelled - before.streams_cancelled, 1);
  assert.equal(after.client_disconnects - before.client_disconnects, 1);
  assert.equal(after.fault_stall - before.fault_stall, 1);
});

test('slow first token (ttft) and per-token latency (itl) from the header', T, async () => {
  const t0 = Date.now();
  await withFault('ttft=400ms');
  assert.ok(Date.now() - t0 >= 380);
  const t1 = Date.now();
  await withFault('itl=30ms,tokens=10', chatBody({ stream: true }), ['-N']);
  assert.ok(Date.now() - t1 >= 250);
});

test('client disconnect mid-stream is counted (what the gateway must cause)', T, async () => {
  const before = await simStats(sim);
  await withFault('itl=100ms,tokens=50', chatBody({ stream: true }), ['-N', '-m', '0.4']);
  await sleep(150);
  const after = await simStats(sim);
  assert.equal(after.streams_cancelled - before.streams_cancelled, 1);
  const m = await (await fetch(`${sim.base}/metrics`)).text();
  assert.match(m, new RegExp(`^sim_streams_cancelled_total ${after.streams_cancelled}$`, 'm'));
});

test('scenario timeline: healthy, then errors, then refused connections', T, async () => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sim-')), 'timeline.yaml');
  fs.writeFileSync(file, `name: timeline
defaults:
  ttft: 0ms
  itl: 0ms
phases:
  - {name: healthy, duration: 1500ms}
  - {name: broken, duration: 1500ms, outage: errors, outage_status: 500}
  - {name: dead, outage: refuse}
`);
  const s = await startSim(['--scenario', file]);
  extra.push(s);
  const code = async () => (await curl(['-o', '/dev/null', '-w', '%{http_code}', '-d', chatBody(), `${s.base}/chat/completions`]));
  assert.equal((await code()).stdout, '200');
  await sleep(1700);
  assert.equal((await code()).stdout, '500');
  assert.equal((await simStats(s)).phase, 'broken');
  await sleep(1600);
  const r = await code();
  // The port itself is closed during a refuse outage: curl cannot connect (exit 7).
  assert.equal(r.code, 7, String(r.code));
});

test('scenario errors name file:line and path; unknown built-in is an error', T, async () => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sim-')), 'bad.yaml');
  fs.writeFileSync(file, 'name: bad\ndefaults:\n  slots: 4\n  overload: maybe\n');
  const r = await simStartFailure(['--scenario', file]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:4: defaults.overload: expected one of`));
  const u = await simStartFailure(['--scenario', 'nope']);
  assert.equal(u.code, 2);
  assert.match(u.stderr, /unknown scenario 'nope'/);
});

test('seeded fault rates replay identically (flaky)', T, async () => {
  const run = async () => {
    const s = await startSim(['--scenario', 'flaky', '--seed', '3', '--ttft', '0', '--itl', '0', '--output-tokens', '4', '--max-wait', '300ms']);
    extra.push(s);
    const codes = [];
    for (let i = 0; i < 30; i++) {
      const r = await curl(['-m', '2', '-o', '/dev/null', '-w', '%{http_code}', '-d', chatBody(), `${s.base}/chat/completions`]);
      codes.push(`${r.stdout}/${r.code}`);
    }
    await s.stop();
    return codes;
  };
  const a = await run();
  assert.deepEqual(await run(), a);
  assert.ok(a.some((c) => !c.startsWith('200/')), a.join(' '));
});
