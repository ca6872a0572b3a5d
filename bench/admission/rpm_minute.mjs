// The literal case of issue 5: a key limited to 60 RPM makes 120 requests in one minute. Three keys on one
// gateway, same minute: (a) default burst (the whole minute's 60 at once), 120 requests sent at once;
// (b) request_burst 2 (smooth: 1 per second, one spare), 120 requests 0.5 s apart; (c) default burst, 120
// requests 0.5 s apart (token bucket: the burst plus a minute of refill). Prints the counts and the headers
// of one 429. Takes ~61 s.
// Usage: SLUICE_BIN=build/sluice node bench/admission/rpm_minute.mjs
import { startGateway, sleep } from '../../tests/integration/lib/gateway.mjs';
import { startSim } from '../../tests/integration/lib/sim.mjs';

const sim = await startSim(['--ttft', '0', '--itl', '0', '--output-tokens', '4']);
const keys = {
  burst_at_once: { limits: { rpm: 60 } },
  smooth_spread: { limits: { rpm: 60, request_burst: 2 } },
  bucket_spread: { limits: { rpm: 60 } },
};
const gw = await startGateway({
  config: {
    listen: '127.0.0.1:0', workers: 2, log_level: 'warn', access_log: 'off',
    upstreams: { sim: { base_url: sim.base } },
    models: { 'deepseek-chat': { upstream: 'sim' } },
    keys: Object.entries(keys).map(([name, p]) => ({ name, secret_env: `K_${name}`, ...p })),
  },
  env: Object.fromEntries(Object.keys(keys).map((n) => [`K_${n}`, `sk-${n}`])),
});
const send = async (name) => {
  const r = await fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer sk-${name}` },
    body: JSON.stringify({ model: 'deepseek-chat', messages: [{ role: 'user', content: 'hi' }] }),
  });
  await r.text();
  return { status: r.status, headers: Object.fromEntries([...r.headers].filter(([k]) => /ratelimit|retry-after/.test(k))) };
};
const t0 = Date.now();
const all = { burst_at_once: Array.from({ length: 120 }, () => send('burst_at_once')), smooth_spread: [], bucket_spread: [] };
for (let i = 0; i < 120; ++i) {
  await sleep(Math.max(0, t0 + i * 500 - Date.now()));
  all.smooth_spread.push(send('smooth_spread'));
  all.bucket_spread.push(send('bucket_spread'));
}
for (const [name, ps] of Object.entries(all)) {
  const rs = await Promise.all(ps);
  const ok = rs.filter((r) => r.status === 200).length;
  const limited = rs.filter((r) => r.status === 429);
  console.log(JSON.stringify({ key: name, limits: keys[name].limits, sent: rs.length, ok, http_429: limited.length, example_429_headers: limited[0]?.headers }));
}
console.log(JSON.stringify({ seconds: (Date.now() - t0) / 1000 }));
await gw.stop();
await sim.stop();
