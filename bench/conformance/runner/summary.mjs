// Per-cell figures and the targets. Invariants hold in every cell (and are what CI enforces);
// success targets depend on the rate.
const pct = (a, b) => (b ? (100 * a) / b : 0);

function quantile(xs, q) {
  if (!xs.length) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
}

const tally = (list) => list.reduce((m, k) => (k ? m.set(k, (m.get(k) ?? 0) + 1) : m), new Map());
const top = (m, n = 3) => [...m].sort((a, b) => b[1] - a[1]).slice(0, n);

function figures(os) {
  const count = (k) => os.filter((o) => o.kind === k).length;
  const gw = os.filter((o) => o.gwAttempts !== null);
  return {
    n: os.length, ok: count('ok'), error: count('error'), cut: count('cut'), dishonest: count('dishonest'),
    dropped: count('dropped'), hang: count('hang'),
    lost: os.reduce((s, o) => s + o.lost, 0), dup: os.reduce((s, o) => s + o.dup, 0),
    attempts: os.reduce((s, o) => s + o.attempts, 0) / (os.length || 1),
    gwAttempts: gw.reduce((s, o) => s + o.gwAttempts, 0) / (gw.length || 1),
    resumes: os.reduce((s, o) => s + o.resumes, 0) / (os.length || 1),
    p50: quantile(os.map((o) => o.ms), 0.5), p99: quantile(os.map((o) => o.ms), 0.99),
    failures: top(tally(os.filter((o) => o.kind !== 'ok').map((o) => o.code))),
    gwFailures: top(tally(os.filter((o) => o.kind !== 'ok').map((o) => o.gwFailure))),
    remarks: top(tally(os.flatMap((o) => o.remarks)), 5),
  };
}

export function summarize(result) {
  const { cell, outcomes } = result;
  const s = {
    cell: { name: cell.name, cls: cell.cls, rate: cell.rate, hedge: cell.hedge ?? null },
    wallMs: Math.round(result.wallMs),
    stream: figures(outcomes.filter((o) => o.stream)),
    nonstream: figures(outcomes.filter((o) => !o.stream)),
    all: figures(outcomes),
    crash: result.crash,
    fixtures: result.fixtureStats,
    // The failed requests themselves (first 200), for the JSON: what the client saw and what the gateway said.
    failed: outcomes.filter((o) => o.kind !== 'ok').slice(0, 200)
      .map(({ rid, stream, kind, code, status, ms, text, finish, attempts, resumes, faults, gwAttempts, gwFailure }) =>
        ({ rid, stream, kind, code, status, ms: Math.round(ms), text, finish, attempts, resumes, faults, gwAttempts, gwFailure })),
  };
  s.violations = violations(s);
  s.targets = targets(s);
  return s;
}

// What must never happen, in any cell (CI enforces exactly these).
export function violations(s) {
  const v = [];
  const a = s.all;
  if (s.crash) v.push(`gateway crashed or did not exit cleanly (${JSON.stringify(s.crash.exit)})`);
  if (a.dishonest) v.push(`${a.dishonest} dishonest answers`);
  if (a.dropped) v.push(`${a.dropped} requests without an HTTP answer`);
  if (a.hang) v.push(`${a.hang} requests without an answer within the client deadline`);
  if (a.lost || a.dup) v.push(`${a.lost} lost / ${a.dup} duplicated tokens`);
  if (s.fixtures.some((f) => f.prefix_mismatch || f.prefix_without_beta)) {
    v.push('a continuation sent a prefix that is not the answer so far, or outside /beta');
  }
  return v;
}

// The targets: >= 99.9 % success at 5 % and 20 % (and for a slow first token, at every rate: slow
// is not a failure); at 100 % an honest error for every request with <= 1.1 upstream attempts each.
export function targets(s) {
  const { rate, cls } = s.cell;
  const misses = [...s.violations];
  const succ = (f) => pct(f.ok, f.n);
  if (rate <= 0.2 || cls === 'slow_first_token') {
    for (const m of ['stream', 'nonstream']) {
      if (succ(s[m]) < 99.9) misses.push(`${m} success ${succ(s[m]).toFixed(1)} % < 99.9 %`);
    }
  } else if (rate >= 1) {
    const honest = s.all.error + s.all.cut;
    if (honest !== s.all.n) misses.push(`${s.all.n - honest} requests without an honest error`);
    const att = Math.max(s.all.attempts, s.all.gwAttempts);
    if (att > 1.1) misses.push(`${att.toFixed(2)} upstream attempts per request > 1.1`);
  }
  return { pass: misses.length === 0, misses };
}
