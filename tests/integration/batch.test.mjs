// The Batch API (Files + Batches) with the official openai SDK against `sluice serve` in front of `sluice sim`,
// SQLite store: upload, validation errors that name the line, ownership by virtual key, create/retrieve/list/
// cancel, OpenAI's shapes, the paths without /v1, durability across a restart. Tests that need lines to run
// wait for the gateway's LineRunner (the request pipeline provides it) and are skipped with that reason.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI, { toFile } from 'openai';
import { startGateway, curl, tempDir } from './lib/gateway.mjs';
import { startSim, writeScenario } from './lib/sim.mjs';
import { batchConfig, jsonl, line, waitForStatus } from './lib/batch.mjs';

const T = { timeout: 20_000 };
const ALICE = 'ck-batch-alice-1';
const BOB = 'ck-batch-bob-2';

describe('Batch API with the openai SDK (SQLite store)', () => {
  let sim;
  let flaky;
  let gw;
  let dataDir;
  let alice;
  let bob;
  const env = { ALICE_KEY: ALICE, BOB_KEY: BOB };
  const sdk = (key, url) => new OpenAI({ baseURL: `${url}/v1`, apiKey: key, maxRetries: 0, timeout: 10_000 });
  const upload = (client, text, name = 'in.jsonl', purpose = 'batch') =>
    toFile(Buffer.from(text), name).then((file) => client.files.create({ file, purpose }));
  const rejects = async (promise, status, pattern) => {
    await assert.rejects(promise, (e) => {
      assert.equal(e.status, status, `${e.status}: ${e.message}`);
      if (pattern) assert.match(e.message, pattern);
      return true;
    });
  };

  before(async () => {
    sim = await startSim(['--seed', '7', '--ttft', '0', '--itl', '0', '--output-tokens', '4']);
    dataDir = tempDir();
    flaky = await startSim(['--seed', '3', '--ttft', '0', '--itl', '0', '--scenario',
      writeScenario(dataDir, 'half503', { errors: '{503: 0.5}' })]);
    gw = await startGateway({ config: batchConfig(sim.base, dataDir, {}, flaky.base), env });
    alice = sdk(ALICE, gw.url);
    bob = sdk(BOB, gw.url);
  });
  after(async () => {
    await sim?.stop();
    await flaky?.stop();
    await gw?.stop();
  });

  test('files.create, retrieve, content and list (one key\'s files only)', T, async () => {
    const text = jsonl(3, 'f');
    const f = await upload(alice, text, 'requests.jsonl');
    assert.match(f.id, /^file-[A-Za-z0-9]{24}$/);
    assert.equal(f.object, 'file');
    assert.equal(f.purpose, 'batch');
    assert.equal(f.filename, 'requests.jsonl');
    assert.equal(f.bytes, Buffer.byteLength(text));
    assert.equal(f.status, 'processed');
    assert.deepEqual(await alice.files.retrieve(f.id), f);
    assert.equal(await (await alice.files.content(f.id)).text(), text);
    const listed = [];
    for await (const x of alice.files.list()) listed.push(x.id);
    assert.ok(listed.includes(f.id));
    await rejects(bob.files.retrieve(f.id), 404, /No such File object/);
    await rejects(bob.files.content(f.id), 404);
    for await (const x of bob.files.list()) assert.notEqual(x.id, f.id);
  });

  test('bad JSONL is refused with errors that name the line', T, async () => {
    const text = `${line('a')}\n{oops\n${line('a')}\n${line('d', {}, '/v1/completions')}\n`;
    await rejects(upload(alice, text), 400,
      /line 2: invalid JSON.*line 3: duplicate custom_id "a" \(first on line 1\).*line 4: url must be/);
    await rejects(upload(alice, `${line('a')}\n${line('b', { stream: true })}\n`), 400,
      /line 2: body.stream must not be true/);
    await rejects(upload(alice, '\n'), 400, /no requests/);
  });

  test('an oversized file gets 413 naming the limit; another purpose gets 400', T, async () => {
    const big = jsonl(400, 'big');  // ~50 KB > batch.max_file_bytes (32 KiB)
    await rejects(upload(alice, big), 413, /larger than 32768 bytes \(batch.max_file_bytes\)/);
    await rejects(upload(alice, jsonl(1), 'x.jsonl', 'fine-tune'), 400, /purpose "fine-tune" is not supported/);
    // Far beyond the upload limit: the HTTP layer refuses from Content-Length, before reading the body.
    const huge = await curl(`${gw.url}/v1/files`, {
      method: 'POST', headers: { Authorization: `Bearer ${ALICE}`, 'Content-Type': 'multipart/form-data; boundary=x' },
      body: Buffer.alloc(200 * 1024, 'a'),
    });
    assert.equal(huge.status, 413);
    assert.match(huge.json().error.message, /exceeds the limit of 98304 bytes/);
  });

  test('batches.create answers with OpenAI\'s shape and sluice_estimate', T, async () => {
    const f = await upload(alice, jsonl(3, 'c'));
    const b = await alice.batches.create({
      input_file_id: f.id, endpoint: '/v1/chat/completions', completion_window: '24h',
      metadata: { project: 'demo', sluice_schedule: 'off_peak' },
    });
    assert.match(b.id, /^batch_[A-Za-z0-9]{24}$/);
    assert.equal(b.object, 'batch');
    assert.equal(b.endpoint, '/v1/chat/completions');
    assert.equal(b.input_file_id, f.id);
    assert.equal(b.completion_window, '24h');
    assert.equal(b.status, 'in_progress');
    assert.equal(b.errors, null);
    assert.equal(b.output_file_id, null);
    assert.deepEqual(b.request_counts, { total: 3, completed: 0, failed: 0 });
    assert.equal(b.expires_at - b.created_at, 86400);
    assert.deepEqual(b.metadata, { project: 'demo', sluice_schedule: 'off_peak' });
    const e = b.sluice_estimate;
    assert.equal(e.schedule, 'off_peak');
    assert.equal(e.priced, true);
    assert.ok(e.cost_now_usd > 0);
    assert.ok(e.cost_scheduled_usd <= e.cost_now_usd);
    assert.ok(Math.abs(e.cost_scheduled_usd - e.cost_now_usd * 0.5) < 1e-9 || e.cost_scheduled_usd === e.cost_now_usd);
    assert.equal(e.meets_deadline, true);
    assert.ok(e.expected_finish_at <= b.expires_at);
    const again = await alice.batches.retrieve(b.id);
    assert.equal(again.id, b.id);
    assert.deepEqual(again.sluice_estimate, e);
    assert.equal(again.sluice_usage.prompt_tokens, 0);  // retrieve adds what the results used so far
    assert.equal(again.sluice_usage.cost_usd, 0);
    await rejects(bob.batches.retrieve(b.id), 404, /No such Batch object/);
    await rejects(bob.batches.cancel(b.id), 404);
  });

  test('asap is asked through metadata; without it a priced model defaults to off_peak', T, async () => {
    const f = await upload(alice, jsonl(2, 's'));
    const asap = await alice.batches.create({ input_file_id: f.id, endpoint: '/v1/chat/completions',
      completion_window: '24h', metadata: { sluice_schedule: 'asap' } });
    assert.equal(asap.sluice_estimate.schedule, 'asap');
    assert.equal(asap.sluice_estimate.cost_scheduled_usd, asap.sluice_estimate.cost_now_usd);
    const dflt = await alice.batches.create({ input_file_id: f.id, endpoint: '/v1/chat/completions',
      completion_window: '24h' });
    assert.equal(dflt.sluice_estimate.schedule, 'off_peak');
  });

  test('unknown endpoint, bad window, bad schedule, missing file: clear 4xx errors', T, async () => {
    const f = await upload(alice, jsonl(1, 'e'));
    const create = (body) => alice.batches.create({ input_file_id: f.id, endpoint: '/v1/chat/completions',
      completion_window: '24h', ...body });
    await rejects(create({ endpoint: '/v1/completions' }), 400, /unsupported endpoint "\/v1\/completions"/);
    await rejects(create({ completion_window: 'tomorrow' }), 400, /completion_window "tomorrow" is not accepted/);
    await rejects(create({ completion_window: '30d' }), 400, /completion_window "30d"/);
    await rejects(create({ metadata: { sluice_schedule: 'cheap' } }), 400, /sluice_schedule must be/);
    await rejects(create({ input_file_id: 'file-doesnotexist' }), 404, /No such File object: file-doesnotexist/);
    try {
      await create({ endpoint: '/v1/completions' });
    } catch (e) {
      assert.equal(e.param, 'endpoint');
      assert.equal(e.code, 'invalid_value');
    }
  });

  test('a file whose requests do not match the endpoint gives a failed batch naming the line', T, async () => {
    const f = await upload(alice, jsonl(2, 'm'));
    const b = await alice.batches.create({ input_file_id: f.id, endpoint: '/v1/embeddings', completion_window: '24h' });
    assert.equal(b.status, 'failed');
    assert.ok(b.failed_at > 0);
    assert.equal(b.errors.object, 'list');
    assert.equal(b.errors.data[0].code, 'mismatched_endpoint');
    assert.equal(b.errors.data[0].line, 1);
    assert.match(b.errors.data[0].message, /use url \/v1\/chat\/completions but the batch's endpoint is \/v1\/embeddings/);
  });

  test('batches.list pages newest first with has_more / after', T, async () => {
    const f = await upload(bob, jsonl(1, 'p'));
    const ids = [];
    for (let i = 0; i < 3; i++) {
      ids.push((await bob.batches.create({ input_file_id: f.id, endpoint: '/v1/chat/completions',
        completion_window: '24h' })).id);
    }
    const first = await bob.batches.list({ limit: 2 });
    assert.deepEqual(first.data.map((b) => b.id), [ids[2], ids[1]]);
    assert.equal(first.has_more, true);
    assert.ok(first.hasNextPage());
    const raw = (await curl(`${gw.url}/v1/batches?limit=2`, { headers: { Authorization: `Bearer ${BOB}` } })).json();
    assert.equal(raw.object, 'list');
    assert.equal(raw.first_id, ids[2]);
    assert.equal(raw.last_id, ids[1]);
    assert.equal(raw.has_more, true);
    const second = await first.getNextPage();
    assert.deepEqual(second.data.map((b) => b.id), [ids[0]]);
    assert.equal(second.has_more, false);
    const all = [];
    for await (const b of bob.batches.list({ limit: 1 })) all.push(b.id);
    assert.deepEqual(all, [ids[2], ids[1], ids[0]]);
  });

  test('cancel: cancelling, then cancelled with an error file line per request', T, async () => {
    const f = await upload(alice, jsonl(3, 'x'));
    const b = await alice.batches.create({ input_file_id: f.id, endpoint: '/v1/chat/completions',
      completion_window: '24h', metadata: { sluice_schedule: 'off_peak' } });
    const c = await alice.batches.cancel(b.id);
    assert.ok(['cancelling', 'cancelled'].includes(c.status));
    assert.ok(c.cancelling_at > 0);
    const done = await waitForStatus(alice, b.id, 'cancelled', 5000);
    assert.equal(done.status, 'cancelled');
    assert.ok(done.cancelled_at >= done.cancelling_at);
    assert.equal(done.output_file_id, null);
    assert.deepEqual(done.request_counts, { total: 3, completed: 0, failed: 3 });
    const errors = (await (await alice.files.content(done.error_file_id)).text()).trim().split('\n').map(JSON.parse);
    assert.deepEqual(errors.map((e) => e.custom_id), ['x-0', 'x-1', 'x-2']);
    for (const e of errors) {
      assert.equal(e.response, null);
      assert.equal(e.error.code, 'batch_cancelled');
      assert.match(e.id, /^batch_req_/);
    }
    const meta = await alice.files.retrieve(done.error_file_id);
    assert.equal(meta.purpose, 'batch_output');
    const again = await alice.batches.cancel(b.id);  // cancelling a cancelled batch: unchanged
    assert.equal(again.status, 'cancelled');
  });

  test('files.del removes the file for its owner only', T, async () => {
    const f = await upload(alice, jsonl(1, 'd'));
    await rejects(bob.files.del(f.id), 404);
    const d = await alice.files.del(f.id);
    assert.deepEqual(d, { object: 'file', deleted: true, id: f.id });
    await rejects(alice.files.retrieve(f.id), 404);
  });

  test('the paths without /v1, wrong methods and malformed multipart (curl)', T, async () => {
    const auth = { Authorization: `Bearer ${ALICE}` };
    const form = `--b\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nbatch\r\n--b\r\n` +
      `Content-Disposition: form-data; name="file"; filename="a.jsonl"\r\n\r\n${line('q')}\n\r\n--b--\r\n`;
    const up = await curl(`${gw.url}/files`, {
      method: 'POST', headers: { ...auth, 'Content-Type': 'multipart/form-data; boundary=b' }, body: form,
    });
    assert.equal(up.status, 200, up.body);
    const id = up.json().id;
    assert.equal((await curl(`${gw.url}/files/${id}`, { headers: auth })).json().id, id);
    const put = await curl(`${gw.url}/v1/files/${id}`, { method: 'PUT', headers: auth });
    assert.equal(put.status, 405);
    assert.equal(put.headers.allow, 'GET, DELETE');
    const json = await curl(`${gw.url}/v1/files`, { method: 'POST', headers: auth, body: '{"purpose":"batch"}' });
    assert.equal(json.status, 400);
    assert.equal(json.json().error.code, 'invalid_content_type');
    const cut = await curl(`${gw.url}/v1/files`, {
      method: 'POST', headers: { ...auth, 'Content-Type': 'multipart/form-data; boundary=b' },
      body: form.slice(0, form.length - 8),
    });
    assert.equal(cut.status, 400);
    assert.match(cut.json().error.message, /ends before its closing boundary/);
    const noPurpose = await curl(`${gw.url}/v1/files`, {
      method: 'POST', headers: { ...auth, 'Content-Type': 'multipart/form-data; boundary=b' },
      body: form.slice(form.indexOf('--b\r\nContent-Disposition: form-data; name="file"')),
    });
    assert.equal(noPurpose.status, 400);
    assert.equal(noPurpose.json().error.param, 'purpose');
    const anon = await curl(`${gw.url}/v1/batches`);
    assert.equal(anon.status, 401);
    const unknown = await curl(`${gw.url}/v1/batches/batch_x/pause`, { method: 'POST', headers: auth });
    assert.equal(unknown.status, 404);
  });

  test('files and batches survive a restart (SQLite in data_dir)', { timeout: 30_000 }, async () => {
    const f = await upload(alice, jsonl(2, 'keep'));
    const b = await alice.batches.create({ input_file_id: f.id, endpoint: '/v1/chat/completions',
      completion_window: '24h', metadata: { sluice_schedule: 'off_peak' } });
    await gw.stop();
    gw = await startGateway({ config: batchConfig(sim.base, dataDir, {}, flaky.base), env });
    alice = sdk(ALICE, gw.url);
    bob = sdk(BOB, gw.url);
    assert.equal(await (await alice.files.content(f.id)).text(), jsonl(2, 'keep'));
    const back = await alice.batches.retrieve(b.id);
    assert.equal(back.status, 'in_progress');
    assert.deepEqual(back.request_counts, { total: 2, completed: 0, failed: 0 });
  });

  test('a batch runs to completion: one output line per custom_id', T, async () => {
    const f = await upload(alice, jsonl(5, 'run'));
    const b = await alice.batches.create({ input_file_id: f.id, endpoint: '/v1/chat/completions',
      completion_window: '24h', metadata: { sluice_schedule: 'asap' } });
    const done = await waitForStatus(alice, b.id, 'completed', 10000);
    assert.equal(done.status, 'completed');
    assert.deepEqual(done.request_counts, { total: 5, completed: 5, failed: 0 });
    const out = (await (await alice.files.content(done.output_file_id)).text()).trim().split('\n').map(JSON.parse);
    assert.deepEqual(out.map((o) => o.custom_id), ['run-0', 'run-1', 'run-2', 'run-3', 'run-4']);
    for (const o of out) {
      assert.equal(o.response.status_code, 200);
      assert.equal(o.response.body.object, 'chat.completion');
      assert.equal(o.error, null);
    }
    // Attributed to the batch's key, once the executor fed the results to the ledger (each poll).
    const upstream = async () => (await curl(`${gw.url}/admin/usage`,
      { headers: { Authorization: `Bearer ${ALICE}` } })).json().totals.upstream_requests;
    const until = Date.now() + 3000;
    while (await upstream() < 5 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    assert.ok(await upstream() >= 5);
  });

  test('a retryable upstream failure is retried until it passes', T, async () => {
    // Half of flaky-chat's requests get a 503 and the gateway does not retry them: the batch does.
    const f = await upload(alice, jsonl(4, 'flaky', 'flaky-chat'));
    const b = await alice.batches.create({ input_file_id: f.id, endpoint: '/v1/chat/completions',
      completion_window: '24h', metadata: { sluice_schedule: 'asap' } });
    const done = await waitForStatus(alice, b.id, 'completed', 15000);
    assert.deepEqual(done.request_counts, { total: 4, completed: 4, failed: 0 });
  });

  test('a batch whose window ends expires, with a batch_expired line per unfinished request', T, async () => {
    // down-chat never answers (its upstream refuses connections): nothing finishes before the 2 s window ends.
    const f = await upload(alice, jsonl(3, 'late', 'down-chat'));
    const b = await alice.batches.create({ input_file_id: f.id, endpoint: '/v1/chat/completions',
      completion_window: '2s' });
    assert.equal(b.expires_at - b.created_at, 2);
    const done = await waitForStatus(alice, b.id, 'expired', 10000);
    assert.equal(done.status, 'expired');
    assert.ok(done.expired_at >= b.expires_at);
    assert.deepEqual(done.request_counts, { total: 3, completed: 0, failed: 3 });
    const errors = (await (await alice.files.content(done.error_file_id)).text()).trim().split('\n').map(JSON.parse);
    assert.deepEqual(errors.map((e) => [e.custom_id, e.error.code]),
      [['late-0', 'batch_expired'], ['late-1', 'batch_expired'], ['late-2', 'batch_expired']]);
  });
});
