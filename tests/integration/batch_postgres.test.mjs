// Two gateway replicas on one PostgreSQL (started here from Debian's binaries, initdb + pg_ctl in a temporary
// directory, as the postgres user when we are root): files and batches made on one are served by the other,
// a cancel on one is finalized once, and /admin/usage on either counts both replicas' traffic (the ledger in
// PostgreSQL). The crash test (a replica killed mid-run loses nothing) runs lines and waits for the LineRunner.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI, { toFile } from 'openai';
import { startGateway, curl, tempDir, sleep } from './lib/gateway.mjs';
import { startSim } from './lib/sim.mjs';
import { startPostgres, postgresAvailable } from './lib/postgres.mjs';
import { batchConfig, jsonl, waitForStatus } from './lib/batch.mjs';

const T = { timeout: 30_000 };
const ALICE = 'ck-batch-alice-1';
const BOB = 'ck-batch-bob-2';
const ADMIN = 'admin-key-0123456789abcdef';

describe('Batch API on PostgreSQL with two replicas', { skip: !postgresAvailable() && 'postgresql-15 not installed' }, () => {
  let pg;
  let sim;
  let a;
  let b;
  let conninfo;
  const env = () => ({ ALICE_KEY: ALICE, BOB_KEY: BOB, SLUICE_ADMIN_KEY: ADMIN, SLUICE_BATCH_PG: conninfo });
  const replica = async () => {
    const cfg = batchConfig(sim.base, tempDir(), { store: 'postgres', postgres: { connections: 2 }, max_file_bytes: '256KiB' });
    return startGateway({ config: cfg, env: env(), readyTimeoutMs: 15_000 });
  };
  const sdk = (url, key = ALICE) => new OpenAI({ baseURL: `${url}/v1`, apiKey: key, maxRetries: 0, timeout: 10_000 });

  before(async () => {
    pg = await startPostgres();
    conninfo = pg.createDatabase();
    sim = await startSim(['--seed', '7', '--ttft', '0', '--itl', '0', '--output-tokens', '4']);
    [a, b] = await Promise.all([replica(), replica()]);  // both create the schema at once: serialised by a lock
  });
  after(async () => {
    await a?.stop();
    await b?.stop();
    await sim?.stop();
    await pg?.stop();
  });

  test('a file uploaded on one replica is served by the other', T, async () => {
    const text = jsonl(3, 'pg');
    const f = await sdk(a.url).files.create({ file: await toFile(Buffer.from(text), 'pg.jsonl'), purpose: 'batch' });
    assert.deepEqual(await sdk(b.url).files.retrieve(f.id), f);
    assert.equal(await (await sdk(b.url).files.content(f.id)).text(), text);
    await assert.rejects(sdk(b.url, BOB).files.retrieve(f.id), (e) => e.status === 404);
    assert.equal(pg.psql('SELECT count(*) FROM batch_files', conninfo.split('dbname=')[1]), '1');
  });

  test('a batch made on one replica is listed, cancelled and finalized once across both', T, async () => {
    const f = await sdk(a.url).files.create({ file: await toFile(Buffer.from(jsonl(4, 'x')), 'x.jsonl'),
      purpose: 'batch' });
    const made = await sdk(b.url).batches.create({ input_file_id: f.id, endpoint: '/v1/chat/completions',
      completion_window: '24h', metadata: { sluice_schedule: 'off_peak' } });
    const listed = await sdk(a.url).batches.list({ limit: 5 });
    assert.ok(listed.data.some((x) => x.id === made.id));
    await sdk(a.url).batches.cancel(made.id);
    const done = await waitForStatus(sdk(b.url), made.id, 'cancelled');
    assert.equal(done.status, 'cancelled');
    assert.deepEqual(done.request_counts, { total: 4, completed: 0, failed: 4 });
    const errorsA = await (await sdk(a.url).files.content(done.error_file_id)).text();
    const errorsB = await (await sdk(b.url).files.content(done.error_file_id)).text();
    assert.equal(errorsA, errorsB);
    assert.equal(errorsA.trim().split('\n').length, 4);  // one line per custom_id, written once
    const db = conninfo.split('dbname=')[1];
    assert.equal(pg.psql(`SELECT count(*) FROM batch_results WHERE batch_id = '${made.id}'`, db), '4');
  });

  test('/admin/usage on either replica counts both (ledger in PostgreSQL)', T, async () => {
    for (const gw of [a, b]) {
      const r = await sdk(gw.url, BOB).chat.completions.create({ model: 'deepseek-chat', max_tokens: 4,
        messages: [{ role: 'user', content: 'count me' }] });
      assert.equal(r.object, 'chat.completion');
    }
    const usage = async (gw) => (await curl(`${gw.url}/admin/usage?group_by=key`,
      { headers: { Authorization: `Bearer ${ADMIN}` } })).json();
    let seen;
    for (let i = 0; i < 50; i++) {  // the ledgers flush every 100 ms
      seen = await usage(a);
      const bob = (seen.groups || []).find((g) => g.key === 'bob');
      if (bob && bob.requests === 2) break;
      await sleep(100);
    }
    assert.equal(seen.groups.find((g) => g.key === 'bob').requests, 2);
    assert.deepEqual(await usage(b), seen);
  });

  test('a replica killed mid-run loses nothing: every custom_id once, every line once in the ledger', { timeout: 60_000 }, async () => {
    // alice's upstream requests in the shared ledger; taken once earlier tests' lines are all in it (steady).
    const aliceRequests = async (gw) => ((await curl(`${gw.url}/admin/usage?group_by=key,source`,
      { headers: { Authorization: `Bearer ${ADMIN}` } })).json().groups || [])
      .find((g) => g.key === 'alice' && g.source === 'upstream')?.requests ?? 0;
    let before = await aliceRequests(b);
    for (let i = 0; i < 20; i++) {
      await sleep(300);
      const now = await aliceRequests(b);
      if (now === before) break;
      before = now;
    }
    const f = await sdk(a.url).files.create({ file: await toFile(Buffer.from(jsonl(200, 'k')), 'k.jsonl'),
      purpose: 'batch' });
    const made = await sdk(a.url).batches.create({ input_file_id: f.id, endpoint: '/v1/chat/completions',
      completion_window: '24h', metadata: { sluice_schedule: 'asap' } });
    await sleep(300);
    await a.kill();
    const done = await waitForStatus(sdk(b.url), made.id, 'completed', 30_000);
    assert.equal(done.status, 'completed');
    const out = (await (await sdk(b.url).files.content(done.output_file_id)).text()).trim().split('\n').map(JSON.parse);
    assert.equal(new Set(out.map((o) => o.custom_id)).size, 200);
    assert.equal(out.length, 200);
    // A's unfed results are taken over by B when A's hold (the lease) ends; then nothing more comes.
    const until = Date.now() + 15_000;
    while (await aliceRequests(b) < before + 200 && Date.now() < until) await sleep(100);
    await sleep(1000);
    assert.equal(await aliceRequests(b), before + 200);
  });
});
