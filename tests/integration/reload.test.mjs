// Hot reload against the real gateway: a config file edit adds a model without a restart, an invalid file
// keeps the running config and the reload endpoint says why (file:line: path: message), a slow stream in
// flight across a reload completes, SIGHUP reloads, and listener changes are reported as needing a restart.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { curl, toYaml, httpRequest, parseSse, sleep } from './lib/gateway.mjs';
import { startAdminGateway, admin, chatBody, scenarioSim } from './lib/admin.mjs';

const cleanup = [];
after(async () => { for (const f of cleanup.reverse()) await f(); });

const sim = (defaults = { ttft: '1ms', itl: '0ms' }) => scenarioSim('s', defaults, cleanup, ['--models', '*']);

function config(simPort, models, extra = {}) {
  return {
    listen: '127.0.0.1:0', workers: 2, log_level: 'info', access_log: 'off',
    admin: { listen: '127.0.0.1:0' },
    upstreams: { s: { base_url: `http://127.0.0.1:${simPort}`, timeouts: { connect: '1s', first_token: '5s', idle: '5s', total: '30s' } } },
    models: Object.fromEntries(models.map((m) => [m, { upstream: 's' }])),
    ...extra,
  };
}

async function gateway(cfg) {
  const gw = await startAdminGateway({ config: cfg });
  cleanup.push(() => gw.stop());
  return gw;
}

const modelIds = async (gw) => (await curl(`${gw.url}/v1/models`)).json().data.map((m) => m.id).sort();

async function waitUntil(pred, timeoutMs, what) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (await pred()) return;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

test('editing the config file adds a model without a restart', { timeout: 30000 }, async () => {
  const s = await sim();
  const gw = await gateway(config(s.port, ['deepseek-chat']));
  assert.deepEqual(await modelIds(gw), ['deepseek-chat']);
  const pid = gw.pid;
  fs.writeFileSync(gw.configFile, toYaml(config(s.port, ['deepseek-chat', 'added-model'])));
  await waitUntil(async () => (await modelIds(gw)).includes('added-model'), 10000, 'the new model in /v1/models');
  const r = await curl(`${gw.url}/v1/chat/completions`, { body: chatBody('added-model') });
  assert.equal(r.status, 200, r.body);
  assert.equal(gw.pid, pid);
  assert.match(gw.stderr, /config reloaded \(config file changed\): generation 2/);
  const listed = (await admin(gw.adminUrl, '/admin/upstreams')).json();
  assert.equal(listed.reloads.success, 1);
  const metrics = (await admin(gw.adminUrl, '/ui/state')).json().metrics;
  assert.match(metrics, /^sluice_config_reloads_total\{result="success"\} 1$/m);
  assert.match(metrics, /^sluice_upstream_drained\{upstream="s"\} 0$/m);
});

test('an invalid config is refused: old config keeps serving, the endpoint says why', { timeout: 30000 }, async () => {
  const s = await sim();
  const gw = await gateway(config(s.port, ['deepseek-chat']));
  const good = fs.readFileSync(gw.configFile, 'utf8');
  // A model pointing at an upstream that does not exist.
  const bad = toYaml(config(s.port, ['deepseek-chat'])) + '  "broken":\n    "upstream": "nowhere"\n';
  fs.writeFileSync(gw.configFile, bad);
  const r = await admin(gw.adminUrl, '/admin/reload', { method: 'POST' });
  assert.equal(r.status, 400, r.body);
  const err = r.json().error;
  assert.equal(err.code, 'config_invalid');
  assert.equal(err.type, 'invalid_request_error');
  assert.ok(err.errors.length >= 1);
  const escaped = gw.configFile.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  assert.match(err.errors[0], new RegExp(`^${escaped}:\\d+: models\\.broken\\.upstream: unknown upstream "nowhere"`));
  assert.match(err.message, /stays active/);
  assert.match(gw.stderr, /config reload \(admin API\) failed, keeping generation 1/);
  // Still the old config.
  assert.deepEqual(await modelIds(gw), ['deepseek-chat']);
  assert.equal((await curl(`${gw.url}/v1/chat/completions`, { body: chatBody() })).status, 200);
  const reloads = (await admin(gw.adminUrl, '/admin/upstreams')).json().reloads;
  assert.equal(reloads.generation, 1);
  assert.ok(reloads.failure >= 1);
  // Fixing the file makes the next reload succeed.
  fs.writeFileSync(gw.configFile, good);
  const ok = await admin(gw.adminUrl, '/admin/reload', { method: 'POST' });
  assert.equal(ok.status, 200, ok.body);
  assert.equal(ok.json().status, 'reloaded');
});

test('a slow stream in flight across a reload completes with [DONE]', { timeout: 30000 }, async () => {
  const s = await sim({ ttft: '50ms', itl: '150ms' });
  const gw = await gateway(config(s.port, ['deepseek-chat']));
  let sawData;
  const firstData = new Promise((r) => { sawData = r; });
  const stream = httpRequest(`${gw.url}/v1/chat/completions`, {
    body: chatBody('deepseek-chat', { stream: true, max_tokens: 20 }),
    timeoutMs: 20000,
    onData: () => sawData(),
  });
  await firstData;
  // Reload twice while it streams: the generation it started on stays alive until it ends.
  fs.writeFileSync(gw.configFile, toYaml(config(s.port, ['deepseek-chat', 'second'])));
  const r1 = await admin(gw.adminUrl, '/admin/reload', { method: 'POST' });
  assert.equal(r1.status, 200, r1.body);
  fs.writeFileSync(gw.configFile, toYaml(config(s.port, ['third'])));
  const r2 = await admin(gw.adminUrl, '/admin/reload', { method: 'POST' });
  assert.equal(r2.status, 200, r2.body);
  assert.deepEqual(await modelIds(gw), ['third'], 'new requests see the newest config at once');
  const res = await stream;
  assert.equal(res.error, null);
  assert.equal(res.status, 200);
  const { events } = parseSse(res.body);
  assert.equal(events[events.length - 1], '[DONE]');
  assert.ok(events.length >= 10, `${events.length} events`);
  assert.ok(res.elapsedMs > 1000, 'the stream really was in flight during the reloads');
});

test('SIGHUP reloads; listener changes are reported as requiring a restart', { timeout: 30000 }, async () => {
  const s = await sim();
  const gw = await gateway(config(s.port, ['deepseek-chat']));
  gw.proc.kill('SIGHUP');
  await waitUntil(() => /config reloaded \(SIGHUP\): generation 2/.test(gw.stderr), 10000, 'the SIGHUP reload');
  assert.equal(gw.exit, null, 'SIGHUP does not stop the gateway');
  assert.equal((await curl(`${gw.url}/v1/chat/completions`, { body: chatBody() })).status, 200);

  fs.writeFileSync(gw.configFile, toYaml(config(s.port, ['deepseek-chat'], { listen: '127.0.0.1:1', workers: 3 })));
  const r = await admin(gw.adminUrl, '/admin/reload', { method: 'POST' });
  assert.equal(r.status, 200, r.body);
  const restart = r.json().restart_required;
  assert.ok(restart.some((x) => x.startsWith('listen: 127.0.0.1:0 -> 127.0.0.1:1')), JSON.stringify(restart));
  assert.ok(restart.some((x) => x.startsWith('workers: 2 -> 3')), JSON.stringify(restart));
  // Still served on the original port.
  assert.equal((await curl(`${gw.url}/v1/models`)).status, 200);
});

test('traffic during repeated reloads: every request succeeds', { timeout: 60000 }, async () => {
  const s = await sim();
  const gw = await gateway(config(s.port, ['deepseek-chat']));
  let stop = false;
  let reloads = 0;
  const reloader = (async () => {
    for (let i = 0; i < 10 && !stop; i++) {
      fs.writeFileSync(gw.configFile, toYaml(config(s.port, ['deepseek-chat', `extra-${i}`])));
      const r = await admin(gw.adminUrl, '/admin/reload', { method: 'POST' });
      assert.equal(r.status, 200, r.body);
      reloads++;
      await sleep(50);
    }
  })();
  const statuses = {};
  const worker = async (n) => {
    for (let i = 0; i < n; i++) {
      const stream = i % 2 === 0;
      const r = await curl(`${gw.url}/v1/chat/completions`, { body: chatBody('deepseek-chat', { stream }) });
      const key = r.status === 200 && (!stream || r.body.includes('[DONE]')) ? 'ok' : `${r.status}`;
      statuses[key] = (statuses[key] || 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: 6 }, () => worker(25)));
  stop = true;
  await reloader;
  assert.deepEqual(statuses, { ok: 150 });
  assert.ok(reloads >= 3, `${reloads} reloads happened while traffic ran`);
});

test('a reload that leaves the cache settings alone keeps the cached answers', { timeout: 30000 }, async () => {
  const s = await sim();
  const cached = { cache: { enabled: true, ttl: '10m' }, ledger: { enabled: false } };
  const gw = await gateway(config(s.port, ['deepseek-chat'], cached));
  const body = JSON.stringify({ model: 'deepseek-chat', temperature: 0, messages: [{ role: 'user', content: 'kept?' }] });
  const first = await curl(`${gw.url}/v1/chat/completions`, { body });
  assert.equal(first.status, 200, first.body);
  assert.equal(first.headers['x-sluice-cache'], 'miss');
  fs.writeFileSync(gw.configFile, toYaml(config(s.port, ['deepseek-chat', 'other'], cached)));
  await waitUntil(async () => (await modelIds(gw)).includes('other'), 10000, 'the reload');
  const again = await curl(`${gw.url}/v1/chat/completions`, { body });
  assert.equal(again.headers['x-sluice-cache'], 'hit');
  assert.equal(again.body, first.body);
  // Changing the cache's own settings starts a new, empty cache.
  fs.writeFileSync(gw.configFile, toYaml(config(s.port, ['deepseek-chat'], { ...cached, cache: { enabled: true, ttl: '20m' } })));
  await waitUntil(async () => !(await modelIds(gw)).includes('other'), 10000, 'the second reload');
  const fresh = await curl(`${gw.url}/v1/chat/completions`, { body });
  assert.equal(fresh.headers['x-sluice-cache'], 'miss');
});
