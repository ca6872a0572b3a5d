// The usage ledger counts each batch line once (docs/batch.md "Exactly once in the ledger"): lines reach
// /admin/usage from their stored results, under the batch owner's key, with the tokens the batch reports; a
// gateway killed with SIGKILL mid-run and restarted on the same data directory loses no line's usage and
// counts none twice, although it lost what it held in memory and reran lines whose results it had not stored.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI, { toFile } from 'openai';
import { startGateway, curl, tempDir, sleep } from './lib/gateway.mjs';
import { startSim, simStats } from './lib/sim.mjs';
import { batchConfig, jsonl, waitForStatus } from './lib/batch.mjs';

const ALICE = 'ck-ledger-alice-1';
const BOB = 'ck-ledger-bob-2';
const ADMIN = 'admin-key-ledger-0123456789';

describe('Batch lines in the usage ledger (SQLite)', () => {
  let sim;
  let gw;
  let dataDir;
  const env = { ALICE_KEY: ALICE, BOB_KEY: BOB, SLUICE_ADMIN_KEY: ADMIN };
  const config = () => ({ ...batchConfig(sim.base, dataDir, { concurrency: 8, max_file_bytes: '256KiB' }),
    admin: { key_env: 'SLUICE_ADMIN_KEY' } });  // /metrics behind the admin key
  const sdk = (key) => new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: key, maxRetries: 0, timeout: 10_000 });
  const run = async (key, n, prefix) => {
    const file = await sdk(key).files.create({ file: await toFile(Buffer.from(jsonl(n, prefix)), `${prefix}.jsonl`),
      purpose: 'batch' });
    return sdk(key).batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions',
      completion_window: '24h', metadata: { sluice_schedule: 'asap' } });
  };
  // The ledger's upstream requests and tokens of `key` (the key's name), as /admin/usage groups them.
  const ledger = async (key) => {
    const r = await curl(`${gw.url}/admin/usage?group_by=key,source`, { headers: { Authorization: `Bearer ${ADMIN}` } });
    assert.equal(r.status, 200, r.body);
    const g = r.json().groups.find((x) => x.key === key && x.source === 'upstream');
    return g ? { requests: g.requests, prompt_tokens: g.prompt_tokens, completion_tokens: g.completion_tokens }
      : { requests: 0, prompt_tokens: 0, completion_tokens: 0 };
  };
  // Waits until the ledger holds `n` requests of `key` (results are fed at each poll), then one more second:
  // a double count would show.
  const settled = async (key, n, timeoutMs = 10_000) => {
    const until = Date.now() + timeoutMs;
    while ((await ledger(key)).requests < n && Date.now() < until) await sleep(50);
    await sleep(1000);
    return ledger(key);
  };

  before(async () => {
    sim = await startSim(['--seed', '11', '--ttft', '0', '--itl', '0', '--output-tokens', '4']);
    dataDir = tempDir();
    gw = await startGateway({ config: config(), env });
  });
  after(async () => {
    await gw?.stop();
    await sim?.stop();
  });

  test('each line is one upstream request of the batch key, with the batch\'s tokens', { timeout: 30_000 }, async () => {
    const b = await run(ALICE, 30, 'once');
    const done = await waitForStatus(sdk(ALICE), b.id, 'completed', 20_000);
    assert.deepEqual(done.request_counts, { total: 30, completed: 30, failed: 0 });
    const l = await settled('alice', 30);
    assert.equal(l.requests, 30);
    assert.equal(l.prompt_tokens, done.sluice_usage.prompt_tokens);
    assert.equal(l.completion_tokens, done.sluice_usage.completion_tokens);
    assert.ok(l.completion_tokens > 0);
    const metrics = (await curl(`${gw.url}/metrics`, { headers: { Authorization: `Bearer ${ADMIN}` } })).body;
    assert.match(metrics, /^sluice_batch_ledger_pending 0$/m);
    assert.match(metrics, /^sluice_batch_ledger_lines_total 30$/m);
  });

  test('SIGKILL mid-run: every custom_id once and every line once in the ledger', { timeout: 60_000 }, async () => {
    const lines = 400;
    const b = await run(BOB, lines, 'kill');
    let seen = 0;
    const until = Date.now() + 20_000;
    while (seen < 100 && Date.now() < until) {
      const r = await sdk(BOB).batches.retrieve(b.id);
      seen = r.request_counts.completed + r.request_counts.failed;
      await sleep(20);
    }
    assert.ok(seen >= 100 && seen < lines, `killed at ${seen} line(s): not mid-run`);
    await gw.kill();
    gw = await startGateway({ config: config(), env });
    const done = await waitForStatus(sdk(BOB), b.id, 'completed', 40_000);
    assert.deepEqual(done.request_counts, { total: lines, completed: lines, failed: 0 });
    const out = (await (await sdk(BOB).files.content(done.output_file_id)).text()).trim().split('\n').map(JSON.parse);
    assert.equal(out.length, lines);
    assert.equal(new Set(out.map((o) => o.custom_id)).size, lines);
    const l = await settled('bob', lines);
    assert.equal(l.requests, lines);
    assert.equal(l.prompt_tokens, done.sluice_usage.prompt_tokens);
  });
});

// Lines use the response cache like interactive requests (docs/batch.md): a line identical to an answer the
// cache holds is answered from it with no upstream call, is saved rather than paid (ledger source "cache",
// nothing in the batch's sluice_usage), and a line's own answer fills the cache for later requests.
describe('Batch lines and the response cache', () => {
  let sim;
  let gw;
  let dataDir;
  const env = { ALICE_KEY: ALICE, BOB_KEY: BOB, SLUICE_ADMIN_KEY: ADMIN };
  const sdk = (key) => new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: key, maxRetries: 0, timeout: 10_000 });
  const body = (content) => ({ model: 'deepseek-chat', temperature: 0, max_tokens: 8,
    messages: [{ role: 'user', content }] });
  const upstreamCalls = async () => (await simStats(sim)).requests;
  const usage = async (key, source) => {
    const r = await curl(`${gw.url}/admin/usage?group_by=key,source`, { headers: { Authorization: `Bearer ${ADMIN}` } });
    return r.json().groups.find((x) => x.key === key && x.source === source) ?? { requests: 0 };
  };

  before(async () => {
    sim = await startSim(['--seed', '12', '--ttft', '0', '--itl', '0', '--output-tokens', '4']);
    dataDir = tempDir();
    gw = await startGateway({ config: { ...batchConfig(sim.base, dataDir, { concurrency: 2 }),
      admin: { key_env: 'SLUICE_ADMIN_KEY' }, cache: { enabled: true, ttl: '1h' } }, env });
  });
  after(async () => {
    await gw?.stop();
    await sim?.stop();
  });

  test('a cached answer serves a line without an upstream call; a line fills the cache', { timeout: 30_000 }, async () => {
    const cached = await sdk(ALICE).chat.completions.create(body('cached before the batch'));
    const before = await upstreamCalls();
    const lines = [
      { custom_id: 'hit', method: 'POST', url: '/v1/chat/completions', body: body('cached before the batch') },
      { custom_id: 'miss', method: 'POST', url: '/v1/chat/completions', body: body('new in the batch') },
    ].map((l) => JSON.stringify(l)).join('\n') + '\n';
    const file = await sdk(ALICE).files.create({ file: await toFile(Buffer.from(lines), 'cache.jsonl'), purpose: 'batch' });
    const b = await sdk(ALICE).batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions',
      completion_window: '24h', metadata: { sluice_schedule: 'asap' } });
    const done = await waitForStatus(sdk(ALICE), b.id, 'completed', 20_000);
    assert.deepEqual(done.request_counts, { total: 2, completed: 2, failed: 0 });
    assert.equal(await upstreamCalls(), before + 1, 'only the line the cache did not hold went upstream');
    const out = Object.fromEntries((await (await sdk(ALICE).files.content(done.output_file_id)).text()).trim()
      .split('\n').map(JSON.parse).map((o) => [o.custom_id, o.response]));
    assert.equal(out.hit.status_code, 200);
    assert.equal(out.hit.body.choices[0].message.content, cached.choices[0].message.content);
    assert.equal(done.sluice_usage.completion_tokens, out.miss.body.usage.completion_tokens,
      'the batch paid for the line that went upstream only');
    const until = Date.now() + 10_000;
    while ((await usage('alice', 'cache')).requests < 1 && Date.now() < until) await sleep(50);
    assert.equal((await usage('alice', 'cache')).requests, 1);
    // The line's own answer is in the cache now: the same request interactively is a hit.
    const again = await sdk(ALICE).chat.completions.create(body('new in the batch')).withResponse();
    assert.equal(again.response.headers.get('x-sluice-cache'), 'hit');
    assert.equal(again.data.choices[0].message.content, out.miss.body.choices[0].message.content);
    assert.equal(await upstreamCalls(), before + 1);
  });
});
