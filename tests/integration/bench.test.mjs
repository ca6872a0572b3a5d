// `sluice bench` against `sluice sim`: counts, success, error classes, streaming timings, open-loop rate,
// bounds, outputs and option errors. Every assertion reads the --json document.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startSim, SLUICE_BIN } from './lib/sim.mjs';

const T = { timeout: 30000 };
let instant;  // zero latency, 16 tokens
let paced;    // TTFT 20 ms, ITL 2 ms
let flaky;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-bench-test-'));

before(async () => {
  instant = await startSim(['--scenario', 'instant', '--log-level', 'warn']);
  paced = await startSim(['--ttft', '20ms', '--itl', '2ms', '--output-tokens', '20', '--log-level', 'warn']);
  flaky = await startSim(['--scenario', 'flaky', '--seed', '3', '--ttft', '0', '--itl', '0', '--log-level', 'warn']);
});
after(async () => {
  await Promise.all([instant, paced, flaky].map((s) => s?.stop()));
  fs.rmSync(tmp, { recursive: true, force: true });
});

// Runs `sluice bench ARGS --json -`; resolves {code, json, stderr, ms}.
function bench(args, timeoutMs = 20000) {
  const t0 = Date.now();
  return new Promise((resolve) => {
    execFile(SLUICE_BIN, ['bench', '--quiet', '--json', '-', ...args], { timeout: timeoutMs, maxBuffer: 64 << 20 },
      (err, stdout, stderr) => {
        let json = null;
        try { json = JSON.parse(stdout); } catch { /* left null: the caller asserts */ }
        resolve({ code: err ? (err.code ?? 'killed') : 0, json, stdout, stderr, ms: Date.now() - t0 });
      });
  });
}

const errorSum = (j) => Object.values(j.errors).reduce((a, b) => a + b, 0);

test('closed loop, non-stream: every request succeeds and tokens add up', T, async () => {
  const r = await bench(['--url', instant.base, '--concurrency', '4', '--requests', '300', '--max-tokens', '8']);
  assert.equal(r.code, 0, r.stderr);
  const j = r.json;
  assert.equal(j.config.mode, 'closed');
  assert.equal(j.requests, 300);
  assert.equal(j.ok, 300);
  assert.equal(j.success_pct, 100);
  assert.equal(errorSum(j), 0);
  assert.equal(j.completion_tokens, 300 * 8);
  assert.equal(j.latency_ms.e2e.count, 300);
  assert.ok(j.latency_ms.e2e.p50 > 0 && j.latency_ms.e2e.p99 >= j.latency_ms.e2e.p50);
  assert.ok(j.rps > 0 && j.goodput_tokens_per_s > 0);
  assert.equal(j.histograms_us.e2e.reduce((a, [, c]) => a + c, 0), 300);
  assert.match(r.stderr, /success\s+100\.00 %/);  // the table goes to stderr when JSON takes stdout
});

test('streaming: TTFT and inter-token latency are measured', T, async () => {
  const r = await bench(['--url', paced.base, '--stream', '--concurrency', '8', '--requests', '40', '--max-tokens', '10']);
  assert.equal(r.code, 0, r.stderr);
  const j = r.json;
  assert.equal(j.ok, 40, JSON.stringify(j.errors));
  assert.equal(j.completion_tokens, 400);
  assert.equal(j.latency_ms.ttft.count, 40);
  assert.ok(j.latency_ms.ttft.p50 >= 15, `ttft p50 ${j.latency_ms.ttft.p50}`);
  assert.ok(j.latency_ms.e2e.p50 > j.latency_ms.ttft.p50);
  assert.ok(j.latency_ms.itl.count >= 40 * 8, `itl count ${j.latency_ms.itl.count}`);
  // 9 gaps of 2 ms per answer. A loaded machine (sanitizers) delivers some tokens together, which moves the
  // median gap, not their sum or the upper quantiles.
  assert.ok(j.latency_ms.itl.p90 >= 1, `itl p90 ${j.latency_ms.itl.p90}`);
  assert.ok(j.latency_ms.e2e.p50 - j.latency_ms.ttft.p50 >= 9, `e2e ${j.latency_ms.e2e.p50} ttft ${j.latency_ms.ttft.p50}`);
});

test('keep-alive comments are not tokens: TTFT counts from the first content chunk', T, async () => {
  const r = await bench(['--url', instant.base, '--stream', '--concurrency', '2', '--requests', '4',
    '--header', 'x-sim-fault: keepalive=2,keepalive-interval=100ms']);
  assert.equal(r.json.ok, 4, JSON.stringify(r.json.errors));
  assert.ok(r.json.latency_ms.ttft.min >= 190, `ttft min ${r.json.latency_ms.ttft.min}`);
});

test('error classes from x-sim-fault', { timeout: 60000 }, async () => {
  const cases = [
    [['--header', 'x-sim-fault: status=503,retry-after=1s'], 'http_503'],
    [['--header', 'x-sim-fault: status=429'], 'http_429'],
    [['--header', 'x-sim-fault: status=500'], 'http_5xx'],
    [['--header', 'x-sim-fault: status=401'], 'http_4xx'],
    [['--header', 'x-sim-fault: reset-before-headers'], 'reset'],
    [['--header', 'x-sim-fault: keepalive=2,keepalive-interval=10ms,give-up'], 'empty'],
    [['--stream', '--header', 'x-sim-fault: keepalive=2,keepalive-interval=10ms,give-up'], 'empty'],
    [['--stream', '--header', 'x-sim-fault: reset-after=2'], 'reset'],
    [['--stream', '--header', 'x-sim-fault: truncate-after=2'], 'truncated'],
    [['--header', 'x-sim-fault: truncate-after=2'], 'truncated'],
    [['--stream', '--header', 'x-sim-fault: malformed-after=1'], 'protocol'],
    [['--header', 'x-sim-fault: malformed-after=1'], 'protocol'],
    [['--stream', '--timeout', '300ms', '--header', 'x-sim-fault: stall-after=1'], 'timeout'],
  ];
  for (const [args, cls] of cases) {
    const r = await bench(['--url', instant.base, '--concurrency', '2', '--requests', '6', ...args]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json.requests, 6, args.join(' '));
    assert.equal(r.json.errors[cls], 6, `${args.join(' ')} → ${JSON.stringify(r.json.errors)}`);
    assert.equal(r.json.ok, 0);
    assert.equal(r.json.latency_ms.e2e.count, 0);  // latency percentiles cover successes only
  }
});

test('flaky scenario: a mix of successes and classified failures', T, async () => {
  const r = await bench(['--url', flaky.base, '--stream', '--concurrency', '8', '--requests', '400', '--timeout', '2s']);
  assert.equal(r.code, 0, r.stderr);
  const j = r.json;
  assert.equal(j.requests, 400);
  assert.equal(j.ok + errorSum(j), 400);
  assert.ok(j.success_pct > 50 && j.success_pct < 99, `success ${j.success_pct}`);
  for (const cls of ['http_429', 'http_503', 'http_5xx', 'reset', 'truncated', 'protocol']) {
    assert.ok(j.errors[cls] > 0, `${cls}: ${JSON.stringify(j.errors)}`);
  }
});

test('open loop honours the rate and the duration', T, async () => {
  const r = await bench(['--url', instant.base, '--rate', '300', '--duration', '2s', '--seed', '5']);
  assert.equal(r.code, 0, r.stderr);
  const j = r.json;
  assert.equal(j.config.mode, 'open');
  assert.ok(j.requests > 480 && j.requests < 720, `requests ${j.requests}`);
  assert.ok(j.elapsed_s > 1.7 && j.elapsed_s < 2.5, `elapsed ${j.elapsed_s}`);
  assert.ok(j.rps > 240 && j.rps < 360, `rps ${j.rps}`);
  assert.equal(j.ok, j.requests);
  // Same seed → same schedule → same count.
  const again = await bench(['--url', instant.base, '--rate', '300', '--duration', '2s', '--seed', '5']);
  assert.equal(again.json.requests, j.requests);
});

test('open loop: latency counts from the scheduled time (no coordinated omission)', T, async () => {
  // One connection, 100 ms per request, 50 req/s offered: requests queue behind each other, and their
  // latency must include the wait.
  const r = await bench(['--url', paced.base, '--rate', '50', '--requests', '20', '--connections', '1',
    '--header', 'x-sim-fault: ttft=100ms,tokens=1']);
  const j = r.json;
  assert.equal(j.ok, 20, JSON.stringify(j.errors));
  assert.ok(j.latency_ms.e2e.p99 > 800, `p99 ${j.latency_ms.e2e.p99}`);
  assert.ok(j.latency_ms.send_delay.p99 > 700);
});

test('bounded by duration in closed loop and by requests in open loop', T, async () => {
  const d = await bench(['--url', instant.base, '--concurrency', '2', '--duration', '1s']);
  assert.ok(d.json.elapsed_s >= 0.9 && d.json.elapsed_s < 1.5, `elapsed ${d.json.elapsed_s}`);
  assert.ok(d.json.requests > 50);
  const n = await bench(['--url', instant.base, '--rate', '1000', '--requests', '123']);
  assert.equal(n.json.requests, 123);
});

test('several URLs: requests alternate between targets', T, async () => {
  const r = await bench(['--url', instant.base, '--url', `${paced.base}/v1`, '--concurrency', '2', '--requests', '20',
    '--max-tokens', '4']);
  assert.equal(r.json.ok, 20);
  assert.equal(r.json.config.urls.length, 2);
});

test('prompts from JSONL, HTML report with SVG charts', T, async () => {
  const prompts = path.join(tmp, 'p.jsonl');
  fs.writeFileSync(prompts, '{"prompt":"hello"}\n{"messages":[{"role":"user","content":"hi"}],"max_tokens":3}\n');
  const html = path.join(tmp, 'r.html');
  const r = await bench(['--url', instant.base, '--stream', '--requests', '10', '--concurrency', '1', '--prompts', prompts,
    '--max-tokens', '5', '--html', html]);
  assert.equal(r.json.ok, 10);
  assert.equal(r.json.completion_tokens, 5 * 5 + 5 * 3);
  const page = fs.readFileSync(html, 'utf8');
  assert.match(page, /<svg/);
  assert.match(page, /Latency CDF/);
  assert.match(page, /Throughput over time/);
  assert.ok(!/<script/.test(page));
});

test('unreachable target: the run completes with connect errors', T, async () => {
  const r = await bench(['--url', 'http://127.0.0.1:1', '--concurrency', '2', '--requests', '5']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.json.errors.connect, 5);
});

test('bad options: clear message, non-zero exit', T, async () => {
  const cases = [
    [['--url', instant.base, '--rate', '10', '--concurrency', '2'], /mutually exclusive/],
    [['--url', 'localhost:80'], /--url/],
    [['--url', instant.base, '--duration', 'forever'], /--duration/],
    [['--url', instant.base, '--header', 'nocolon'], /--header/],
    [['--url', instant.base, '--prompts', path.join(tmp, 'missing.jsonl')], /--prompts/],
    [['--url', instant.base, '--rate', 'fast'], /rate/],
    [[], /--url/],
  ];
  for (const [args, re] of cases) {
    const r = await bench(args);
    assert.notEqual(r.code, 0, args.join(' '));
    assert.match(r.stderr, re, args.join(' '));
  }
});
