// Turns the raw files of bench/admission_overload.sh into the Markdown of docs/benchmarks.md.
// argv: OUT_DIR CAPACITY RATE SLOTS PHASE_S T0_EPOCH_S BENCH_CMD
import fs from 'node:fs';
import path from 'node:path';

const [dir, capacity, rate, slots, phase, t0, cmd] = process.argv.slice(2);
const read = (f) => fs.readFileSync(path.join(dir, f), 'utf8');
const pct = (xs, p) => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)];
};
const logLines = (f) => read(f).split('\n').filter(Boolean).map((l) => JSON.parse(l));

const run = JSON.parse(read('overload.json'));
const cls = Object.fromEntries(run.classes.map((c) => [c.value, c]));
const access = logLines('access-overload.log');
const by = (prio, pred) => access.filter((r) => r.priority === prio && pred(r));
const highOk = by('high', (r) => r.status === 200);
const shedLog = access.filter((r) => String(r.failure).startsWith('shed_'));
const reasons = {};
for (const r of shedLog) reasons[r.failure] = (reasons[r.failure] || 0) + 1;
const deadlineMs = 10000;
const late = access.filter((r) => r.duration_ms > deadlineMs + 100).length;
const maxQueue = Math.max(0, ...access.map((r) => r.queue_ms ?? 0));

const f1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : '–');
const f2 = (x) => (Number.isFinite(x) ? x.toFixed(2) : '–');
const out = [];
out.push(`Sim capacity (measured, ${slots} slots, closed loop at ${slots}): **${capacity} req/s**; offered **${rate} req/s** `
  + `(open loop, Poisson) for ${run.config.duration_s} s, X-Priority 20 % high / 80 % low, X-Request-Timeout 10 s.`);
out.push('');
out.push('| | high | low | all |');
out.push('|---|---|---|---|');
const h = cls.high;
const l = cls.low;
out.push(`| requests | ${h.requests} | ${l.requests} | ${run.requests} |`);
out.push(`| success | **${f2(h.success_pct)} %** | ${f2(l.success_pct)} % | ${f2(run.success_pct)} % |`);
out.push(`| 503 shed (client-side p50 / p99) | ${h.errors.http_503} | ${l.errors.http_503} (${f2(l.latency_ms.failed_e2e.p50)} / **${f2(l.latency_ms.failed_e2e.p99)} ms**) | ${run.errors.http_503} |`);
out.push(`| queue wait p50 / p99 (gateway log) | ${f1(pct(highOk.map((r) => r.queue_ms), 0.5))} / **${f1(pct(highOk.map((r) => r.queue_ms), 0.99))} ms** | ${f1(pct(by('low', (r) => r.status === 200).map((r) => r.queue_ms), 0.5))} / ${f1(pct(by('low', (r) => r.status === 200).map((r) => r.queue_ms), 0.99))} ms | |`);
out.push(`| e2e latency of successes p50 / p99 | ${f1(h.latency_ms.e2e.p50)} / ${f1(h.latency_ms.e2e.p99)} ms | ${f1(l.latency_ms.e2e.p50)} / ${f1(l.latency_ms.e2e.p99)} ms | |`);
out.push('');
const shedDur = shedLog.map((r) => r.duration_ms);
out.push(`- Goodput: ${f1(run.ok_rps)} ok req/s = **${f1((100 * run.ok_rps) / Number(capacity))} %** of the sim's capacity `
  + `(${f1(run.goodput_tokens_per_s)} completion tokens/s).`);
out.push(`- Shed answers: ${shedLog.length} (${Object.entries(reasons).map(([k, v]) => `${k} ${v}`).join(', ')}); gateway-side `
  + `duration p99 ${pct(shedDur, 0.99)} ms, max ${Math.max(0, ...shedDur)} ms (access log, whole-ms resolution).`);
out.push(`- Deadlines: ${late} of ${access.length} requests ended later than their 10 s deadline; longest queue wait ${maxQueue} ms `
  + '(max_wait: high 5 s, low 2 s).');

// Re-adaptation: the limit over time from the gateway's log.
const err = read('gateway-adapt.err').split('\n');
const points = [];
for (const line of err) {
  const m = /^(\S+) info admission: group \S+ concurrency limit (\d+)/.exec(line);
  if (m) points.push([(Date.parse(`${m[1]}Z`) / 1000) - Number(t0), Number(m[2])]);
}
const within = (lo, hi, target) => {
  // First time in [lo, hi) after which the limit stays within 20 % of target until hi.
  const inPhase = points.filter(([t]) => t >= lo && t < hi);
  let since = null;
  let last = null;
  for (const [t, v] of points) {
    if (t < lo) { last = v; continue; }
    if (t >= hi) break;
    const ok = Math.abs(v - target) <= 0.2 * target;
    if (ok && since === null) since = t;
    if (!ok) since = null;
    last = v;
  }
  if (inPhase.length === 0 && last !== null && Math.abs(last - target) <= 0.2 * target) since = lo;
  return since === null ? null : since - lo;
};
const mean = (lo, hi) => {
  const xs = points.filter(([t]) => t >= lo && t < hi).map(([, v]) => v);
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN;
};
const P = Number(phase);
const S = Number(slots);
const adapt = JSON.parse(read('adapt.json'));
out.push('');
out.push(`Re-adaptation (AIMD limit; same offered load; the sim answers 429 when full and has ${S} slots for ${P} s, then ${S / 2}):`);
out.push('');
out.push(`| phase | slots | limit settles within ±20 % after | mean limit over the phase's last 10 s (log points) |`);
out.push('|---|---|---|---|');
const w1 = within(0, P, S);
const w2 = within(P, 2 * P, S / 2);
out.push(`| start (limit starts at 32) | ${S} | ${w1 === null ? 'not within' : `${f1(w1)} s`} | ${f1(mean(P - 10, P))} |`);
out.push(`| capacity halves | ${S / 2} | ${w2 === null ? 'not within' : `${f1(w2)} s`} | ${f1(mean(2 * P - 10, 2 * P))} |`);
out.push('');
out.push(`Limit changes logged (t s → limit): ${points.map(([t, v]) => `${t.toFixed(0)}→${v}`).join(', ')}`);
out.push(`High success in this run ${f2(adapt.classes[0].success_pct)} %, goodput ${f1(adapt.ok_rps)} ok req/s.`);
out.push('');
out.push('Command of the overload run (the script computes the rate from the measured capacity):');
out.push('```sh');
out.push(cmd);
out.push('```');
console.log(out.join('\n'));
