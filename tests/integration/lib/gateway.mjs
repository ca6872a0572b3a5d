// Helpers for driving the real sluice binary in integration tests: write a temporary YAML config, spawn
// `sluice serve` with a controlled environment, learn its port, collect its access log, stop it with a
// signal and await the exit code; plus curl and raw-socket clients.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const SLUICE_BIN = process.env.SLUICE_BIN || fileURLToPath(new URL('../../../build/sluice', import.meta.url));

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Sanitizer settings from CI (halt_on_error etc.) must reach the gateway, or its reports would go unnoticed.
function sanitizerEnv() {
  const out = {};
  for (const k of ['ASAN_OPTIONS', 'UBSAN_OPTIONS', 'TSAN_OPTIONS', 'LSAN_OPTIONS']) {
    if (process.env[k]) out[k] = process.env[k];
  }
  return out;
}
// Polls pred every 5 ms; rejects after timeoutMs (tests must never wait unboundedly on a dead gateway).
export async function waitFor(pred, timeoutMs, what = 'a condition') {
  const until = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(5);
  }
}
// For Promise.race deadlines: resolves with `value` after ms, without keeping the process alive.
export const after = (ms, value = null) => new Promise((r) => setTimeout(r, ms, value).unref());

// Every process spawned here, so a crashed test file does not leave gateways behind.
const live = new Set();
const tempDirs = new Set();
process.on('exit', () => {
  for (const p of live) {
    try { p.kill('SIGKILL'); } catch { /* already gone */ }
  }
  for (const d of tempDirs) fs.rmSync(d, { recursive: true, force: true });
});

// --- YAML ----------------------------------------------------------------------------------------------
// JSON strings are valid YAML double-quoted scalars, so a small emitter is enough for test configs.
function yamlScalar(v) {
  if (typeof v === 'string') return JSON.stringify(v);
  if (v === null || v === undefined) return 'null';
  return String(v);
}

export function toYaml(value, indent = '') {
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]\n';
    let out = '';
    for (const item of value) {
      if (item !== null && typeof item === 'object') {
        const inner = toYaml(item, indent + '  ');
        out += `${indent}- ${inner.slice(indent.length + 2)}`;
      } else {
        out += `${indent}- ${yamlScalar(item)}\n`;
      }
    }
    return out;
  }
  if (value !== null && typeof value === 'object') {
    let out = '';
    for (const [k, v] of Object.entries(value)) {
      if (v !== null && typeof v === 'object' && (Array.isArray(v) ? v.length > 0 : Object.keys(v).length > 0)) {
        out += `${indent}${JSON.stringify(k)}:\n${toYaml(v, indent + '  ')}`;
      } else if (v !== null && typeof v === 'object') {
        out += `${indent}${JSON.stringify(k)}: ${Array.isArray(v) ? '[]' : '{}'}\n`;
      } else {
        out += `${indent}${JSON.stringify(k)}: ${yamlScalar(v)}\n`;
      }
    }
    return out;
  }
  return `${indent}${yamlScalar(value)}\n`;
}

// A fresh directory, removed when the test process exits.
export function tempDir() {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-it-'));
  tempDirs.add(d);
  return d;
}

// Writes a config (object → YAML, or YAML text as is) to a fresh temp file and returns its path.
export function writeConfig(config, name = 'sluice.yaml') {
  const file = path.join(tempDir(), name);
  fs.writeFileSync(file, typeof config === 'string' ? config : toYaml(config));
  return file;
}

// Which optional config sections this binary accepts (the resilience layer adds model `retry` and upstream
// `outlier`); probed once with `sluice check`, so these tests run against older and newer binaries alike.
let features = null;
export function configFeatures() {
  if (features) return features;
  const probe = (extraModel, extraUpstream) => {
    const file = writeConfig({
      listen: '127.0.0.1:0',
      upstreams: { u: { base_url: 'http://127.0.0.1:1', ...extraUpstream } },
      models: { m: { upstream: 'u', ...extraModel } },
    });
    const r = spawnSync(SLUICE_BIN, ['check', '-c', file], { env: { PATH: process.env.PATH }, timeout: 5000 });
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
    return r.status === 0;
  };
  features = {
    retry: probe({ retry: { max_attempts: 1 } }, {}),
    outlier: probe({}, { outlier: { consecutive_failures: 1000 } }),
    forwardHeaders: probe({}, { forward_headers: ['x-test-mode'] }),
  };
  return features;
}

// The headers tests steer their upstreams with (lib/fake_upstream.mjs, `sluice sim`). The gateway forwards
// only allow-listed client headers (docs/security.md), so test configs list these on every upstream that
// does not say otherwise.
export const TEST_CONTROL_HEADERS = ['x-test-mode', 'x-test-status', 'x-test-retry-after', 'x-test-error-body',
  'x-test-echo-auth', 'x-test-keepalives', 'x-test-gap-ms', 'x-test-chunks', 'x-test-bytes', 'x-sim-fault'];
export function withTestHeaders(cfg) {
  if (typeof cfg !== 'object' || cfg === null || !configFeatures().forwardHeaders) return cfg;
  for (const u of Object.values(cfg.upstreams || {})) {
    if (u && typeof u === 'object' && u.forward_headers === undefined) u.forward_headers = [...TEST_CONTROL_HEADERS];
  }
  return cfg;
}

// The foundation tests observe one upstream attempt at a time: no gateway-level retries and no outlier
// ejection (a run of deliberate failures must not take the fake upstream out of rotation). Explicit settings
// in a test's config win.
export function singleAttempt(cfg) {
  const f = configFeatures();
  for (const m of Object.values(cfg.models || {})) {
    if (f.retry && m.retry === undefined) m.retry = { max_attempts: 1 };
  }
  for (const u of Object.values(cfg.upstreams || {})) {
    if (f.outlier && u.outlier === undefined) u.outlier = { consecutive_failures: 1000 };
  }
  return cfg;
}

// A typical config: one fake upstream with a provider key from FAKE_PROVIDER_KEY, fast timeouts.
export function baseConfig({ upstreamUrl, models, keys, server, timeouts, upstreams, accessLog, workers = 1 } = {}) {
  const cfg = {
    listen: '127.0.0.1:0',
    workers,
    log_level: 'warn',
    upstreams: upstreams || {
      fake: {
        base_url: upstreamUrl,
        api_key_env: 'FAKE_PROVIDER_KEY',
        timeouts: { connect: '2s', first_token: '5s', idle: '5s', total: '20s', ...(timeouts || {}) },
      },
    },
    models: models || { 'deepseek-chat': { upstream: 'fake' } },
  };
  cfg.ledger = { path: path.join(tempDir(), 'ledger.db') };  // not the default ./sluice-ledger.db
  if (accessLog) cfg.access_log = accessLog;
  if (keys) cfg.keys = keys;
  if (server) cfg.server = server;
  return singleAttempt(cfg);
}

// --- the gateway process -----------------------------------------------------------------------------
// Starts `sluice serve -c <config>`. env is the *whole* environment besides PATH/HOME (so a developer's
// DEEPSEEK_API_KEY never leaks into a test). Resolves once the "listening on" line has been printed.
export async function startGateway({ config, env = {}, args = [], readyTimeoutMs = 5000 } = {}) {
  const file = config === undefined ? null : writeConfig(withTestHeaders(config));
  const argv = ['serve', ...(file ? ['-c', file] : []), ...args];
  const proc = spawn(SLUICE_BIN, argv, {
    env: { PATH: process.env.PATH, HOME: process.env.HOME || '/tmp', ...sanitizerEnv(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(proc);
  const gw = {
    proc, pid: proc.pid, configFile: file, port: 0, url: '', stopping: false, crashed: false,
    stdout: '', stderr: '', logs: [], badLogLines: [],
    exit: null,
  };
  gw.exited = new Promise((resolve) => {
    proc.on('exit', (code, signal) => {
      live.delete(proc);
      gw.exit = { code, signal };
      if (!gw.stopping && gw.port) {
        // Nobody asked it to stop: a crash. Say so loudly; stop() will also fail the test file's after().
        gw.crashed = true;
        process.stderr.write(`\n*** sluice (pid ${proc.pid}) exited unexpectedly: code ${code}, signal ${signal}\n${gw.stderr.slice(-4000)}\n`);
      }
      resolve(gw.exit);
    });
  });
  let partial = '';
  proc.stdout.setEncoding('utf8');
  proc.stdout.on('data', (d) => {
    gw.stdout += d;
    partial += d;
    let nl;
    while ((nl = partial.indexOf('\n')) >= 0) {
      const line = partial.slice(0, nl);
      partial = partial.slice(nl + 1);
      if (!line.trim()) continue;
      try { gw.logs.push(JSON.parse(line)); } catch { gw.badLogLines.push(line); }
    }
  });
  proc.stderr.setEncoding('utf8');
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`sluice did not start in ${readyTimeoutMs} ms; stderr:\n${gw.stderr}`)), readyTimeoutMs);
    proc.stderr.on('data', (d) => {
      gw.stderr += d;
      const m = /sluice: listening on (\S+):(\d+) \(/.exec(gw.stderr);
      if (m && !gw.port) {
        clearTimeout(timer);
        gw.port = Number(m[2]);
        gw.url = `http://127.0.0.1:${gw.port}`;
        resolve();
      }
    });
    proc.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`sluice exited early (code ${code}, signal ${signal}); stderr:\n${gw.stderr}`));
    });
  });
  await ready;

  // Resolves with the first access-log record matching pred (records are written after the response).
  gw.waitForLog = async (pred, timeoutMs = 3000) => {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const hit = gw.logs.find(pred);
      if (hit) return hit;
      if (Date.now() > until) {
        throw new Error(`no matching access-log record within ${timeoutMs} ms; have:\n${gw.logs.map((l) => JSON.stringify(l)).join('\n')}`);
      }
      await sleep(10);
    }
  };
  gw.logFor = (id, timeoutMs) => gw.waitForLog((l) => l.id === id, timeoutMs);
  // Sends a signal and resolves with {code, signal} once the process exits; SIGKILLs after timeoutMs.
  gw.stop = async (signal = 'SIGTERM', timeoutMs = 5000) => {
    if (gw.crashed) {
      throw new Error(`sluice crashed during the tests (code ${gw.exit.code}, signal ${gw.exit.signal}); stderr:\n${gw.stderr.slice(-4000)}`);
    }
    if (gw.exit) return gw.exit;
    gw.stopping = true;
    proc.kill(signal);
    const t = setTimeout(() => { try { proc.kill('SIGKILL'); } catch { /* gone */ } }, timeoutMs);
    const r = await gw.exited;
    clearTimeout(t);
    return r;
  };
  gw.kill = () => gw.stop('SIGKILL', 1000);
  // Tests that send their own signals mark it first, so the exit is not taken for a crash.
  gw.signal = (sig = 'SIGTERM') => { gw.stopping = true; proc.kill(sig); };
  // Resident set size in KiB, from /proc.
  gw.rssKb = () => {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${proc.pid}/status`, 'utf8'));
    return m ? Number(m[1]) : NaN;
  };
  // True when the binary is sanitizer-instrumented (memory figures are then inflated by design).
  gw.sanitized = () => {
    try {
      return /lib[at]san|libubsan/.test(fs.readFileSync(`/proc/${proc.pid}/maps`, 'utf8'));
    } catch { return false; }
  };
  return gw;
}

// Runs the binary to completion (for `check`, `--version`, `--help`, failing `serve`).
export function runSluice(args, { env = {}, timeoutMs = 5000 } = {}) {
  return new Promise((resolve, reject) => {
    const proc = spawn(SLUICE_BIN, args, {
      env: { PATH: process.env.PATH, HOME: process.env.HOME || '/tmp', ...sanitizerEnv(), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    live.add(proc);
    let stdout = '';
    let stderr = '';
    proc.stdout.setEncoding('utf8').on('data', (d) => { stdout += d; });
    proc.stderr.setEncoding('utf8').on('data', (d) => { stderr += d; });
    const t = setTimeout(() => { proc.kill('SIGKILL'); reject(new Error(`sluice ${args.join(' ')} timed out`)); }, timeoutMs);
    proc.on('error', reject);
    proc.on('exit', (code, signal) => { clearTimeout(t); live.delete(proc); resolve({ code, signal, stdout, stderr }); });
  });
}

// --- clients -------------------------------------------------------------------------------------------
function parseHeaderBlock(text) {
  const lines = text.split('\r\n');
  const m = /^HTTP\/[\d.]+ (\d{3})/.exec(lines[0]);
  const headers = {};
  for (const l of lines.slice(1)) {
    const i = l.indexOf(':');
    if (i <= 0) continue;
    const k = l.slice(0, i).trim().toLowerCase();
    const v = l.slice(i + 1).trim();
    headers[k] = headers[k] === undefined ? v : `${headers[k]}, ${v}`;
  }
  return { status: m ? Number(m[1]) : 0, headers, statusLine: lines[0] };
}

// curl, as a client would use it. Returns {status, headers (lower-case names), body (string), raw (Buffer),
// exitCode, stderr, json()}; status 0 when no response arrived (then exitCode says why: 7 = refused, ...).
// opts: method, headers ({name: value}; value null removes a header curl would add), body (string|Buffer,
// sent with --data-binary from stdin; Content-Type defaults to application/json), timeoutMs, args (extra).
export function curl(url, { method, headers = {}, body, timeoutMs = 10000, args = [] } = {}) {
  const argv = ['-sS', '-i', '--http1.1', '-m', String(Math.ceil(timeoutMs / 1000)), '-N'];
  if (method) argv.push('-X', method);
  const hdrs = { ...headers };
  const lower = Object.keys(hdrs).map((k) => k.toLowerCase());
  if (body !== undefined && !lower.includes('content-type')) hdrs['Content-Type'] = 'application/json';
  for (const [k, v] of Object.entries(hdrs)) argv.push('-H', v === null ? `${k}:` : `${k}: ${v}`);
  if (body !== undefined) argv.push('--data-binary', '@-');
  argv.push(...args, url);
  return new Promise((resolve, reject) => {
    const proc = spawn('curl', argv, { stdio: ['pipe', 'pipe', 'pipe'] });
    live.add(proc);
    const out = [];
    let stderr = '';
    proc.stdout.on('data', (d) => out.push(d));
    proc.stderr.setEncoding('utf8').on('data', (d) => { stderr += d; });
    proc.on('error', reject);
    proc.stdin.on('error', () => { /* the server may close before reading everything (413) */ });
    if (body !== undefined) proc.stdin.end(body); else proc.stdin.end();
    proc.on('close', (exitCode) => {
      live.delete(proc);
      const raw = Buffer.concat(out);
      let rest = raw;
      let head = { status: 0, headers: {}, statusLine: '' };
      // Skip interim 1xx blocks (100 Continue) and keep the final response's header.
      for (;;) {
        const end = rest.indexOf('\r\n\r\n');
        if (end < 0) break;
        head = parseHeaderBlock(rest.subarray(0, end).toString('latin1'));
        rest = rest.subarray(end + 4);
        if (head.status < 100 || head.status >= 200) break;
      }
      const bodyText = rest.toString('utf8');
      resolve({
        status: head.status, headers: head.headers, statusLine: head.statusLine, body: bodyText, raw,
        exitCode, stderr,
        json() { return JSON.parse(bodyText); },
      });
    });
  });
}

// Opens a TCP connection, writes `request` (string/Buffer, or an array of [delayMs, chunk] steps) and
// collects everything until the server closes or timeoutMs passes. Returns {data, closed, connected,
// elapsedMs, error}.
export function rawHttp(port, request, { timeoutMs = 5000 } = {}) {
  return new Promise((resolve) => {
    const started = Date.now();
    const sock = net.connect(port, '127.0.0.1');
    const chunks = [];
    let done = false;
    let error = null;
    let connected = false;
    const finish = (closed) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve({ data: Buffer.concat(chunks).toString('utf8'), closed, connected, elapsedMs: Date.now() - started, error });
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    sock.on('data', (d) => chunks.push(d));
    sock.on('error', (e) => { error = e; });
    sock.on('close', () => finish(true));
    sock.on('connect', async () => {
      connected = true;
      const steps = Array.isArray(request) ? request : [[0, request]];
      for (const [delay, chunk] of steps) {
        if (delay) await sleep(delay);
        if (done || sock.destroyed) return;
        sock.write(chunk);
      }
    });
  });
}

// Parses a raw HTTP/1.1 response text (as from rawHttp) into {status, headers, body} (no de-chunking).
export function parseRaw(text) {
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) return { status: 0, headers: {}, body: '' };
  return { ...parseHeaderBlock(text.slice(0, end)), body: text.slice(end + 4) };
}

// Splits an SSE body into its events' data fields; comments (":...") are returned separately.
export function parseSse(body) {
  const events = [];
  const comments = [];
  for (const block of body.split(/\r?\n\r?\n/)) {
    if (!block.trim()) continue;
    const data = [];
    for (const line of block.split(/\r?\n/)) {
      if (line.startsWith(':')) comments.push(line);
      else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
    }
    if (data.length) events.push(data.join('\n'));
  }
  return { events, comments };
}

// Asserts nothing the gateway said contains `secret` (any response text passed in, plus its logs).
export function findLeaks(secret, gw, responses = []) {
  const where = [];
  if (gw.stdout.includes(secret)) where.push('stdout (access log)');
  if (gw.stderr.includes(secret)) where.push('stderr');
  responses.forEach((r, i) => {
    const text = typeof r === 'string' ? r : (r.raw ? r.raw.toString('latin1') : JSON.stringify(r));
    if (text.includes(secret)) where.push(`response #${i}`);
  });
  return where;
}

// A request with node's http client, for tests that care about *when* bytes arrive or that hang up early.
// Resolves with {status, headers, body, arrivals: [{ms, text}], elapsedMs, aborted, abortedAt, error}. opts.onData(text,
// ctl) is called per received piece; ctl.abort() destroys the connection (a client going away).
export function httpRequest(url, { method = 'POST', headers = {}, body, timeoutMs = 10000, onResponse, onData } = {}) {
  return new Promise((resolve) => {
    const started = Date.now();
    const arrivals = [];
    let status = 0;
    let resHeaders = {};
    let text = '';
    let settled = false;
    let aborted = false;
    const hdrs = { ...headers };
    if (body !== undefined && !Object.keys(hdrs).some((k) => k.toLowerCase() === 'content-type')) {
      hdrs['content-type'] = 'application/json';
    }
    const done = (error = null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ status, headers: resHeaders, body: text, arrivals, elapsedMs: Date.now() - started, aborted, abortedAt: ctl.abortedAt, error });
    };
    const req = http.request(url, { method, headers: hdrs, agent: false });
    const ctl = {
      abort() { aborted = true; ctl.abortedAt = Date.now(); req.destroy(); done(); },
      abortedAt: 0,
    };
    const timer = setTimeout(() => { req.destroy(); done(new Error(`timed out after ${timeoutMs} ms`)); }, timeoutMs);
    req.on('error', (e) => done(aborted ? null : e));
    req.on('response', (res) => {
      status = res.statusCode;
      resHeaders = res.headers;
      res.setEncoding('utf8');
      onResponse?.(res, ctl);
      res.on('data', (d) => {
        arrivals.push({ ms: Date.now() - started, text: d });
        text += d;
        onData?.(d, ctl);
      });
      res.on('end', () => done());
      res.on('error', (e) => done(aborted ? null : e));
    });
    req.end(body);
    ctl.req = req;
  });
}
