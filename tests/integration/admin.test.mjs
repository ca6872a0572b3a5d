// Admin API against the real gateway and `sluice sim` upstreams: upstream listing, drain/undrain (traffic moves
// away from a drained host and comes back), force eject, and authentication on both admin placements.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { curl } from './lib/gateway.mjs';
import { simStats } from './lib/sim.mjs';
import { startAdminGateway, admin, chatBody, scenarioSim } from './lib/admin.mjs';

const cleanup = [];
after(async () => { for (const f of cleanup.reverse()) await f(); });

const ADMIN_KEY = 'test-admin-key-0123456789';

const sim = (name) => scenarioSim(name, { ttft: '1ms', itl: '0ms' }, cleanup);

const upstream = (port) => ({
  base_url: `http://127.0.0.1:${port}`,
  timeouts: { connect: '1s', first_token: '5s', idle: '5s', total: '10s' },
  outlier: { consecutive_failures: 3, base_ejection: '30s' },
});

async function gateway(sims, adminSection, env = {}) {
  const upstreams = Object.fromEntries(Object.entries(sims).map(([n, s]) => [n, upstream(s.port)]));
  const gw = await startAdminGateway({
    config: {
      listen: '127.0.0.1:0', workers: 2, log_level: 'warn', access_log: 'off', upstreams,
      models: { 'deepseek-chat': { balancer: 'round_robin', deployments: Object.keys(sims).map((u) => ({ upstream: u })) } },
      ...(adminSection ? { admin: adminSection } : {}),
    },
    env,
  });
  cleanup.push(() => gw.stop());
  return gw;
}

const chat = (gw) => curl(`${gw.url}/v1/chat/completions`, { body: chatBody() });

async function answeredBy(gw, n) {
  const counts = {};
  for (let i = 0; i < n; i++) {
    const r = await chat(gw);
    assert.equal(r.status, 200, r.body);
    const u = r.headers['x-sluice-upstream'];
    counts[u] = (counts[u] || 0) + 1;
  }
  return counts;
}

test('separate admin listener: list, drain stops traffic to a host, undrain restores it', { timeout: 30000 }, async () => {
  const a = await sim('a');
  const b = await sim('b');
  const gw = await gateway({ a, b }, { listen: '127.0.0.1:0' });
  assert.ok(gw.adminUrl, `admin listener announced: ${gw.stderr}`);

  const list = await admin(gw.adminUrl, '/admin/upstreams');
  assert.equal(list.status, 200, list.body);
  const ups = list.json().upstreams;
  assert.deepEqual(ups.map((u) => u.name), ['a', 'b']);
  for (const u of ups) {
    assert.equal(u.state, 'healthy');
    assert.equal(u.in_flight, 0);
    for (const k of ['ewma_ttft_ms', 'consecutive_failures', 'times_ejected', 'ejected_for_ms']) {
      assert.equal(typeof u[k], 'number', k);
    }
    assert.equal(u.ejected_until, null);
    assert.deepEqual(u.models, ['deepseek-chat']);
  }

  const before = await answeredBy(gw, 10);
  assert.ok(before.a > 0 && before.b > 0, `round robin uses both: ${JSON.stringify(before)}`);

  const d = await admin(gw.adminUrl, '/admin/upstreams/a/drain', { method: 'POST' });
  assert.equal(d.status, 200, d.body);
  assert.equal(d.json().state, 'drained');
  const simA = (await simStats(a)).requests;
  const during = await answeredBy(gw, 10);
  assert.deepEqual(during, { b: 10 }, 'a drained host gets no new requests');
  assert.equal((await simStats(a)).requests, simA, 'the sim behind the drained host saw nothing');
  const listed = (await admin(gw.adminUrl, '/admin/upstreams')).json().upstreams.find((u) => u.name === 'a');
  assert.equal(listed.state, 'drained');
  assert.equal(listed.drained, true);

  const u = await admin(gw.adminUrl, '/admin/upstreams/a/undrain', { method: 'POST' });
  assert.equal(u.status, 200, u.body);
  assert.equal(u.json().state, 'healthy');
  const afterwards = await answeredBy(gw, 10);
  assert.ok(afterwards.a > 0, `undrained host serves again: ${JSON.stringify(afterwards)}`);

  // The admin routes are not on the main listener in this placement.
  const main = await curl(`${gw.url}/admin/upstreams`);
  assert.equal(main.status, 404);
});

test('force eject takes a host out for the ejection time; errors are OpenAI-shaped', { timeout: 30000 }, async () => {
  const a = await sim('a');
  const b = await sim('b');
  const gw = await gateway({ a, b }, { listen: '127.0.0.1:0' });
  const e = await admin(gw.adminUrl, '/admin/upstreams/b/eject', { method: 'POST' });
  assert.equal(e.status, 200, e.body);
  const body = e.json();
  assert.equal(body.state, 'ejected');
  assert.equal(body.times_ejected, 1);
  assert.ok(body.ejected_for_ms > 20000 && body.ejected_for_ms <= 30000, `ejected for ${body.ejected_for_ms} ms`);
  assert.match(body.ejected_until, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.deepEqual(await answeredBy(gw, 8), { a: 8 });

  const missing = await admin(gw.adminUrl, '/admin/upstreams/nope/drain', { method: 'POST' });
  assert.equal(missing.status, 404);
  assert.equal(missing.json().error.code, 'upstream_not_found');
  const badAction = await admin(gw.adminUrl, '/admin/upstreams/a/explode', { method: 'POST' });
  assert.equal(badAction.status, 404);
  assert.equal(typeof badAction.json().error.message, 'string');
  const wrongMethod = await admin(gw.adminUrl, '/admin/upstreams/a/drain');
  assert.equal(wrongMethod.status, 405);
  assert.equal(wrongMethod.json().error.code, 'method_not_allowed');
  const other = await admin(gw.adminUrl, '/v1/chat/completions', { method: 'POST' });
  assert.equal(other.status, 404, 'the admin listener serves admin routes only');
});

test('admin key on the main listener: required, checked, and other routes unaffected', { timeout: 30000 }, async () => {
  const a = await sim('a');
  const gw = await gateway({ a }, { key_env: 'SLUICE_ADMIN_KEY' }, { SLUICE_ADMIN_KEY: ADMIN_KEY });
  assert.equal(gw.adminUrl, undefined, 'no separate listener');
  const none = await admin(gw.url, '/admin/upstreams');
  assert.equal(none.status, 401);
  assert.equal(none.json().error.code, 'invalid_admin_key');
  const wrong = await admin(gw.url, '/admin/upstreams/a/drain', { method: 'POST', key: 'not-the-key-at-all' });
  assert.equal(wrong.status, 401);
  const listed = (await admin(gw.url, '/admin/upstreams', { key: ADMIN_KEY })).json().upstreams;
  assert.equal(listed[0].state, 'healthy', 'the unauthorized drain did nothing');
  const viaHeader = await curl(`${gw.url}/admin/upstreams`, { headers: { 'x-sluice-admin-key': ADMIN_KEY } });
  assert.equal(viaHeader.status, 200);
  const ok = await admin(gw.url, '/admin/upstreams/a/drain', { method: 'POST', key: ADMIN_KEY });
  assert.equal(ok.status, 200);
  assert.equal(ok.json().state, 'drained');
  // Only host drained: traffic still flows (a drain never turns into a refusal of every request).
  assert.equal((await chat(gw)).status, 200);
  const models = await curl(`${gw.url}/v1/models`);
  assert.equal(models.status, 200);
});

test('no admin section: no admin routes anywhere', { timeout: 30000 }, async () => {
  const a = await sim('a');
  const gw = await gateway({ a }, null);
  assert.equal(gw.adminUrl, undefined);
  for (const p of ['/admin/upstreams', '/ui', '/ui/state']) {
    const r = await curl(`${gw.url}${p}`);
    assert.equal(r.status, 404, p);
  }
  const r = await curl(`${gw.url}/admin/reload`, { method: 'POST' });
  assert.equal(r.status, 404);
});
