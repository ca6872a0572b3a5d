#!/usr/bin/env node
// The fault-conformance runner (bench/conformance/README.md). Full run: every class at 5/20/50/100 %,
// scorecard into docs/benchmarks.md, JSON into bench/results/. --ci: a short run that prints the same table
// and exits 1 on an invariant violation only (success rates are printed, not enforced).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CLASSES } from '../fixture/faults.mjs';
import { runCell } from './cell.mjs';
import { KEY } from './gateway_config.mjs';
import { startFixture } from './procs.mjs';
import { section, scorecardTable, writeSection } from './report.mjs';
import { summarize } from './summary.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const { values: a } = parseArgs({
  options: {
    ci: { type: 'boolean', default: false },
    classes: { type: 'string' },          // comma list; default all (CLASSES)
    rates: { type: 'string' },            // percent, comma list; default 5,20,50,100 (--ci: 20,100)
    requests: { type: 'string' },         // per cell; default 1000 (--ci: 64)
    concurrency: { type: 'string', default: '32' },
    hosts: { type: 'string', default: '3' },
    seed: { type: 'string', default: '1' },
    // 5, not the issue's 3: with independent faults at 20 % per attempt, 3 attempts cap success at
    // 1 − 0.2³ = 99.2 %, below the 99.9 % target; 5 leave 0.2⁵ = 0.03 %. The retry throttle keeps an outage
    // at ~1 attempt per request either way.
    'max-attempts': { type: 'string', default: '5' },
    'max-resumes': { type: 'string', default: '5' },  // the same arithmetic for a stream broken 20 % of legs
    docs: { type: 'boolean' },            // write docs/benchmarks.md (the default unless --ci) ...
    'no-docs': { type: 'boolean' },       // ... or not
    out: { type: 'string', default: path.join(ROOT, 'bench/results') },
    keep: { type: 'boolean', default: false },  // keep every cell's gateway config, access log and stderr
    render: { type: 'string' },          // only rewrite the docs section from a JSON result of an earlier run
    bin: { type: 'string', default: process.env.SLUICE_BIN ?? path.join(ROOT, 'build/sluice') },
  },
});

if (a.render) {
  const { meta, cells } = JSON.parse(fs.readFileSync(a.render, 'utf8'));
  writeSection(path.join(ROOT, 'docs/benchmarks.md'), section({ summaries: cells, meta }));
  console.error(`[conformance] scorecard of ${a.render} written to docs/benchmarks.md`);
  process.exit(0);
}
const classes = a.classes ? a.classes.split(',') : CLASSES;
for (const c of classes) if (!CLASSES.includes(c)) throw new Error(`unknown class ${c}; one of ${CLASSES.join(' ')}`);
const rates = (a.rates ?? (a.ci ? '20,100' : '5,20,50,100')).split(',').map((r) => Number(r) / 100);
const requests = Number(a.requests ?? (a.ci ? 64 : 1000));
const concurrency = Number(a.concurrency);
const seed = Number(a.seed);
const bin = path.resolve(a.bin);
if (!fs.existsSync(bin)) throw new Error(`sluice binary not found at ${bin} (set SLUICE_BIN or --bin)`);

const git = (...args) => { try { return execFileSync('git', ['-C', ROOT, ...args], { encoding: 'utf8' }).trim(); } catch { return '?'; } };
const dirty = git('status', '--porcelain', '--', 'src', 'CMakeLists.txt') ? '+uncommitted src changes' : '';
const meta = {
  rev: `${git('rev-parse', '--short', 'HEAD')}${dirty ? ` ${dirty}` : ''}`,
  version: execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim(),
  date: new Date().toISOString().replace('T', ' ').slice(0, 16) + ' UTC',
  command: `node bench/conformance/runner/run.mjs ${process.argv.slice(2).join(' ')}`.trim(),
  hosts: Number(a.hosts), requests, concurrency, seed, maxAttempts: Number(a['max-attempts']),
  maxResumes: Number(a['max-resumes']),
};

// The whole cell list: a fault-free cell first (the suite checking itself), then class × rate.
const cells = [{ cls: 'none', rate: 0, name: 'none-0', maxAttempts: meta.maxAttempts, maxResumes: meta.maxResumes }];
for (const cls of classes) {
  if (cls === 'none') continue;
  for (const rate of rates) {
    cells.push({ cls, rate, name: `${cls}-${Math.round(rate * 100)}`, hedge: cls === 'slow_first_token' ? '200ms' : null,
      maxAttempts: meta.maxAttempts, maxResumes: meta.maxResumes });
  }
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-conformance-'));
const fixtures = await Promise.all(Array.from({ length: meta.hosts }, (_, i) =>
  startFixture(`h${i}`, { seed, key: KEY(i), opts: {} })));
const summaries = [];
const t0 = Date.now();
try {
  for (const cell of cells) {
    const s = summarize(await runCell({ cell, fixtures, bin, tmp, requests, concurrency, seed }));
    summaries.push(s);
    const f = (m) => `${((100 * s[m].ok) / (s[m].n || 1)).toFixed(1)} %`;
    console.error(`[conformance] ${cell.name.padEnd(26)} success s ${f('stream')} n ${f('nonstream')}  ` +
      `att/req ${s.all.attempts.toFixed(2)}  ${(s.wallMs / 1000).toFixed(1)} s` +
      `${s.violations.length ? `  VIOLATION: ${s.violations.join('; ')}` : ''}`);
  }
} finally {
  for (const f of fixtures) f.stop();
}
meta.wallS = Math.round((Date.now() - t0) / 1000);

fs.mkdirSync(a.out, { recursive: true });
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const jsonFile = path.join(a.out, `conformance-${a.ci ? 'ci-' : ''}${stamp}.json`);
fs.writeFileSync(jsonFile, JSON.stringify({ meta, cells: summaries }, null, 1));
console.log(scorecardTable(summaries));
if (!a['no-docs'] && (a.docs || !a.ci)) {
  writeSection(path.join(ROOT, 'docs/benchmarks.md'), section({ summaries, meta }));
  console.error('[conformance] scorecard written to docs/benchmarks.md');
}
const broken = summaries.filter((s) => s.violations.length);
console.error(`[conformance] ${summaries.filter((s) => s.targets.pass).length}/${summaries.length} cells meet the targets ` +
  `(not enforced); invariants enforced: no dishonest answer, no dropped or hung request, no lost or duplicated ` +
  `token, no crash, continuations only with the true prefix on /beta. JSON: ${jsonFile}`);
if (broken.length) {
  console.error(`[conformance] FAIL: ${broken.length} cells broke an invariant (logs kept in ${tmp}):`);
  for (const s of broken) console.error(`  ${s.cell.name}: ${s.violations.join('; ')}`);
  process.exit(1);
}
if (a.keep) console.error(`[conformance] gateway configs, access logs and stderr kept in ${tmp}`);
else fs.rmSync(tmp, { recursive: true, force: true });
console.error('[conformance] invariants held in every cell');
