// GET /metrics on the gateway: counters and histograms move by exactly what the traffic did (successes, a
// dead host's failures, retries, a fallback, ejection, tokens, client errors), and the text passes promtool.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, curl } from './lib/gateway.mjs';
import { startSim } from './lib/sim.mjs';
import { scenarioFile, startDeadHost } from './lib/hosts.mjs';
import { scrape, sum, promtoolCheckMetrics } from './lib/prom.mjs';

const cleanup = [];
after(async () => { for (const f of cleanup.reverse()) await f(); });

const scenario = scenarioFile;

// Accepts TCP connections and drops them at once: every attempt on it fails.
async function deadHost() {
  const h = await startDeadHost();
  cleanup.push(h.close);
  return h;
}

const upstream = (port, extra = {}) => ({
  base_url: `http://127.0.0.1:${port}`,
  timeouts: { connect: '1s', first_token: '5s', idle: '5s', total: '10s' },
  ...extra,
});

const chat = (gw, model, extra = {}) => curl(`${gw.url}/v1/chat/completions`, {
  body: JSON.stringify({ model, max_tokens: 8, messages: [{ role: 'user', content: 'hello metrics' }], ...extra }),
});

test('metrics move by what the traffic did and pass promtool', { timeout: 60000 }, async () => {
  const sim = await startSim(['--seed', '3', '--models', '*', '--scenario', scenario('fast', { slots: 64, ttft: '2ms', itl: '0ms' })]);
  cleanup.push(() => sim.stop());
  const dead = await deadHost();
  const gw = await startGateway({
    config: {
      listen: '127.0.0.1:0', workers: 2, log_level: 'error',
      upstreams: {
        healthy: upstream(sim.port),
        dead: upstream(dead.port, { outlier: { consecutive_failures: 2, base_ejection: '60s' } }),
      },
      models: {
        'deepseek-chat': {
          balancer: 'round_robin',
          deployments: [{ upstream: 'healthy' }, { upstream: 'dead' }],
          retry: { max_attempts: 3, backoff_base: '1ms', backoff_cap: '2ms', budget_ratio: 100, budget_min: 50 },
        },
        broken: { upstream: 'dead', retry: { max_attempts: 1 }, fallbacks: ['deepseek-chat'] },
      },
    },
  });
  cleanup.push(() => gw.stop());

  const before = await scrape(gw.url);
  assert.match(before.contentType, /^text\/plain; version=0\.0\.4/);
  const b = before.samples;
  assert.equal(sum(b, 'sluice_build_info'), 1);
  assert.equal(sum(b, 'sluice_requests_in_flight'), 0);
  assert.equal(sum(b, 'sluice_upstream_healthy', { upstream: 'dead' }), 1);
  assert.equal(sum(b, 'sluice_group_upstreams', { group: 'deepseek-chat' }), 2);

  // 12 non-streaming and 4 streaming requests (with usage), all must succeed (failed attempts on the dead
  // host are retried on the healthy one). The first ones go one by one: a burst of concurrent failures would
  // trip the retry throttle before the dead host is ejected.
  let prompt = 0, completion = 0;
  const plain = [];
  for (let i = 0; i < 6; i++) plain.push(await chat(gw, 'deepseek-chat'));
  plain.push(...await Promise.all(Array.from({ length: 6 }, () => chat(gw, 'deepseek-chat'))));
  for (const r of plain) {
    assert.equal(r.status, 200, r.body);
    const u = r.json().usage;
    prompt += u.prompt_tokens;
    completion += u.completion_tokens;
  }
  const streamed = await Promise.all(Array.from({ length: 4 }, () =>
    chat(gw, 'deepseek-chat', { stream: true, stream_options: { include_usage: true } })));
  for (const r of streamed) {
    assert.equal(r.status, 200, r.body);
    const last = r.body.split('\n').filter((l) => l.startsWith('data: {')).map((l) => JSON.parse(l.slice(6)))
      .filter((c) => c.usage).pop();
    prompt += last.usage.prompt_tokens;
    completion += last.usage.completion_tokens;
  }
  // A fallback: `broken` only has the dead host; its failure moves the request to deepseek-chat.
  const fb = await chat(gw, 'broken');
  assert.equal(fb.status, 200, fb.body);
  assert.equal(fb.headers['x-sluice-model'], 'deepseek-chat');
  const fbUsage = fb.json().usage;
  // Client errors never reach a model group: bad JSON and an unknown model.
  const bad = await curl(`${gw.url}/v1/chat/completions`, { body: '{not json' });
  assert.equal(bad.status, 400);
  const unknown = await chat(gw, 'no-such-model');
  assert.equal(unknown.status, 404);

  const after_ = await scrape(gw.url);
  const a = after_.samples;
  const d = (name, labels) => (sum(a, name, labels) ?? 0) - (sum(b, name, labels) ?? 0);

  assert.equal(d('sluice_requests_total', { model: 'deepseek-chat', upstream: 'healthy', status_class: '2xx' }), 17);
  assert.equal(d('sluice_requests_total', { model: 'none', upstream: 'none', status_class: '4xx' }), 2);
  assert.equal(d('sluice_requests_total', { status_class: '5xx' }), 0);
  assert.equal(d('sluice_requests_total'), 19);
  assert.equal(d('sluice_request_duration_seconds_count', { model: 'deepseek-chat' }), 17);
  assert.equal(d('sluice_request_duration_seconds_bucket', { model: 'deepseek-chat', le: '+Inf' }), 17);
  assert.equal(d('sluice_ttft_seconds_count', { model: 'deepseek-chat', upstream: 'healthy' }), 17);
  assert.ok(d('sluice_ttft_seconds_sum', { model: 'deepseek-chat', upstream: 'healthy' }) > 0);
  // The gateway's own time: one sample per request that reached an upstream, each far below its duration.
  assert.equal(d('sluice_gateway_overhead_seconds_count'), 17);
  const overhead = d('sluice_gateway_overhead_seconds_sum');
  assert.ok(overhead >= 0 && overhead < d('sluice_request_duration_seconds_sum', { model: 'deepseek-chat' }),
    `overhead ${overhead} s`);
  assert.equal(d('sluice_tokens_total', { model: 'deepseek-chat', type: 'prompt' }), prompt + fbUsage.prompt_tokens);
  assert.equal(d('sluice_tokens_total', { model: 'deepseek-chat', type: 'completion' }), completion + fbUsage.completion_tokens);

  // Attempts: 17 successes on the healthy host; every attempt on the dead one failed, and each failure
  // inside deepseek-chat was followed by a retry, the one in `broken` by the fallback.
  assert.equal(d('sluice_upstream_attempts_total', { upstream: 'healthy', result: 'ok' }), 17);
  assert.equal(d('sluice_upstream_attempts_total', { upstream: 'healthy' }), 17);
  const deadFailures = d('sluice_upstream_attempts_total', { upstream: 'dead' });
  assert.equal(d('sluice_upstream_attempts_total', { upstream: 'dead', result: 'ok' }), 0);
  assert.ok(deadFailures >= 2, `the dead host was tried: ${deadFailures}`);
  assert.equal(deadFailures, dead.connections);
  assert.equal(d('sluice_retries_total', { model: 'deepseek-chat' }), deadFailures - 1);
  assert.equal(d('sluice_fallbacks_total', { from: 'broken', to: 'deepseek-chat' }), 1);
  const reasons = a.filter((s) => s.name === 'sluice_retries_total').map((s) => s.labels.reason);
  assert.ok(reasons.length > 0 && reasons.every((r) => r.startsWith('upstream_')), `retry reasons: ${reasons}`);

  // The dead host was ejected (2 consecutive failures) and stays so for 60 s.
  assert.ok(d('sluice_outlier_ejections_total', { upstream: 'dead' }) >= 1);
  assert.equal(sum(a, 'sluice_upstream_ejected', { upstream: 'dead' }), 1);
  assert.equal(sum(a, 'sluice_upstream_healthy', { upstream: 'dead' }), 0);
  assert.equal(sum(a, 'sluice_upstream_healthy', { upstream: 'healthy' }), 1);
  assert.equal(sum(a, 'sluice_group_upstreams_available', { group: 'deepseek-chat' }), 1);
  assert.equal(sum(a, 'sluice_group_upstreams_available', { group: 'broken' }), 0);
  assert.ok(sum(a, 'sluice_upstream_ewma_ttft_seconds', { upstream: 'healthy' }) > 0);
  assert.equal(sum(a, 'sluice_upstream_in_flight', { upstream: 'healthy' }), 0);
  assert.equal(sum(a, 'sluice_requests_in_flight'), 0);
  assert.equal(sum(a, 'sluice_streams_in_flight'), 0);

  // Process metrics from /proc.
  const now = Date.now() / 1000;
  const start = sum(a, 'process_start_time_seconds');
  assert.ok(start > now - 600 && start <= now + 5, `start time ${start} vs now ${now}`);
  assert.ok(sum(a, 'process_resident_memory_bytes') > 1e6);
  assert.ok(sum(a, 'process_open_fds') >= 3);
  assert.ok(sum(a, 'process_cpu_seconds_total') >= 0);  // 10 ms ticks: a light run may not have used one

  const lint = promtoolCheckMetrics(after_.text);
  assert.ifError(lint.error);
  assert.equal(lint.status, 0, lint.output);
  assert.equal(lint.output, '', `promtool lint: ${lint.output}`);
});

test('in-flight gauges count a stream while it runs; /metrics only answers GET', { timeout: 30000 }, async () => {
  const sim = await startSim(['--seed', '4', '--scenario', scenario('slow', { slots: 8, ttft: '1ms', itl: '100ms' })]);
  cleanup.push(() => sim.stop());
  const gw = await startGateway({
    config: { listen: '127.0.0.1:0', workers: 1, log_level: 'error', upstreams: { s: upstream(sim.port) },
      models: { 'deepseek-chat': { upstream: 's' } } },
  });
  cleanup.push(() => gw.stop());
  const running = chat(gw, 'deepseek-chat', { stream: true, max_tokens: 20 });
  let seen;
  for (let i = 0; i < 200; i++) {
    const { samples } = await scrape(gw.url);
    if (sum(samples, 'sluice_streams_in_flight') === 1) { seen = samples; break; }
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.ok(seen, 'the stream was never seen in flight');
  assert.equal(sum(seen, 'sluice_requests_in_flight'), 1);
  assert.equal(sum(seen, 'sluice_upstream_in_flight', { upstream: 's' }), 1);
  assert.equal((await running).status, 200);
  // The client can read the last byte a moment before the gateway's bookkeeping for the request ends.
  let samples;
  for (let i = 0; i < 100; i++) {
    ({ samples } = await scrape(gw.url));
    if (sum(samples, 'sluice_streams_in_flight') === 0 && sum(samples, 'sluice_requests_in_flight') === 0) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.equal(sum(samples, 'sluice_streams_in_flight'), 0);
  assert.equal(sum(samples, 'sluice_requests_in_flight'), 0);
  const post = await curl(`${gw.url}/metrics`, { method: 'POST', body: '' });
  assert.equal(post.status, 405);
  assert.equal(post.headers.allow, 'GET');
});
