// The scorecard: a Markdown table per run, written into docs/benchmarks.md as the `## Fault conformance`
// section (replaced on every run), and the raw figures as JSON under bench/results/.
import fs from 'node:fs';

const pct = (f) => (f.n ? `${((100 * f.ok) / f.n).toFixed(1)}` : '–');
const esc = (s) => String(s).replace(/\|/g, '\\|');
const codes = (list) => list.map(([c, k]) => `${k}× ${esc(c)}`).join('; ');

function failures(s) {
  const parts = [];
  if (s.stream.failures.length) parts.push(`s: ${codes(s.stream.failures)}`);
  if (s.nonstream.failures.length) parts.push(`n: ${codes(s.nonstream.failures)}`);
  return parts.join('<br>') || '–';
}

export function scorecardTable(summaries) {
  const rows = [
    '| class | rate | success % s / n | attempts/req fixture · gateway | resumes/req | lost · dup tokens | dishonest · dropped · hang | p99 ms s / n | failures (s: stream, n: non-stream) | targets |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---|---|',
  ];
  for (const s of summaries) {
    const a = s.all;
    rows.push(`| ${s.cell.cls}${s.cell.hedge ? ` (hedge ${s.cell.hedge})` : ''} | ${Math.round(s.cell.rate * 100)} % | ` +
      `${pct(s.stream)} / ${pct(s.nonstream)} | ${a.attempts.toFixed(2)} · ${a.gwAttempts.toFixed(2)} | ` +
      `${a.resumes.toFixed(2)} | ${a.lost} · ${a.dup} | ${a.dishonest} · ${a.dropped} · ${a.hang}${s.crash ? ' · **crash**' : ''} | ` +
      `${Math.round(s.stream.p99)} / ${Math.round(s.nonstream.p99)} | ${failures(s)} | ` +
      `${s.targets.pass ? 'pass' : `**miss**: ${esc(s.targets.misses.join('; '))}`} |`);
  }
  return rows.join('\n');
}

// The gateway's own reasons (access log `failure: detail`) for the failed requests of each cell.
export function gatewayReasons(summaries) {
  const lines = [];
  for (const s of summaries) {
    const r = s.all.gwFailures;
    const why = (c) => (c === 'none' ? 'none (the gateway logged a success)' : c);
    if (r.length) lines.push(`- ${s.cell.name}: ${r.map(([c, k]) => `${k}× ${why(c)}`).join('; ')}`);
  }
  return lines.join('\n');
}

export function remarksList(summaries) {
  const lines = [];
  for (const s of summaries) {
    if (s.all.remarks.length) lines.push(`- ${s.cell.name}: ${s.all.remarks.map(([c, k]) => `${k}× ${c}`).join('; ')}`);
  }
  return lines.join('\n');
}

export function section({ summaries, meta }) {
  const passed = summaries.filter((s) => s.targets.pass).length;
  const broken = summaries.filter((s) => s.violations.length).length;
  return `## Fault conformance (issue 24) — \`bench/conformance/\`

Each fault class of \`bench/conformance/fixture/faults.mjs\` injected on every one of ${meta.hosts} fixture hosts at a
per-attempt rate (\`refused\`: the share of 250 ms slots a host is down), a fresh gateway per cell (one worker,
round robin, \`retry: {max_attempts: ${meta.maxAttempts ?? 3}}\`, \`failover: {mode: prefix, max_resumes: ${meta.maxResumes ?? 3}}\`, upstream timeouts
connect 1 s / first token 10 s / idle 1 s, request timeout 20 s; hedging only for \`slow_first_token\`),
${meta.requests} requests per cell from ${meta.concurrency} concurrent \`openai\` SDK clients (\`maxRetries: 0\`), half streamed
(half of those with \`include_usage\`), a third capped by \`max_tokens\`. Every answer is checked word for word
against the unbroken one (bench/conformance/README.md has the rules).

Measured ${meta.date} at git ${meta.rev} (${meta.version}) on the shared 2-core VM; ${meta.wallS} s.
Command: \`${meta.command}\`

**${passed} of ${summaries.length} cells meet the targets; ${broken} cells broke an invariant** (dishonest answer,
answer dropped or hung, lost or duplicated tokens, crash — what \`bench/conformance/ci.sh\` fails on).
Targets: ≥ 99.9 % success at 0–20 % (every rate for a slow first token); at 100 % an honest error for every
request with ≤ 1.1 upstream attempts each (the larger of the fixtures' count and the gateway's); invariants
everywhere. Attempts per request from the fixtures include resumes; the gateway's (access log) also counts
connections that were refused.

${scorecardTable(summaries)}

The gateway's reasons for the failed requests (access log \`failure: detail\`, top 3 per cell):

${gatewayReasons(summaries) || '- none'}

Remarks on successful answers (stream shape, usage; reported, not enforced):

${remarksList(summaries) || '- none'}
`;
}

// Replaces the `## Fault conformance` section of the file (up to the next `## ` heading), or appends it.
export function writeSection(file, text) {
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const start = lines.findIndex((l) => l.startsWith('## Fault conformance'));
  let out;
  if (start < 0) {
    out = `${lines.join('\n').replace(/\n*$/, '\n')}\n${text}`;
  } else {
    let end = lines.findIndex((l, i) => i > start && l.startsWith('## '));
    if (end < 0) end = lines.length;
    out = [...lines.slice(0, start), ...text.replace(/\n*$/, '').split('\n'), ...(end < lines.length ? ['', ...lines.slice(end)] : [''])].join('\n');
  }
  fs.writeFileSync(file, out);
}
