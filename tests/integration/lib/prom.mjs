// Prometheus text-format helpers for tests: scrape /metrics, parse samples, sum series by label subset, and run
// `promtool check metrics` on the text.
import { spawnSync } from 'node:child_process';
import assert from 'node:assert/strict';

// Parses `name{a="x",b="y"} value` lines into [{name, labels, value}] (comments skipped).
export function parseMetrics(text) {
  const out = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(m, `unparseable exposition line: ${line}`);
    const labels = {};
    if (m[2]) {
      const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/gy;
      let l;
      let consumed = 0;
      while ((l = re.exec(m[2])) !== null) {
        labels[l[1]] = l[2].replace(/\\(.)/g, (_, c) => (c === 'n' ? '\n' : c));
        consumed = re.lastIndex;
      }
      assert.equal(consumed, m[2].length, `bad label set in: ${line}`);
    }
    const v = m[3] === '+Inf' ? Infinity : m[3] === '-Inf' ? -Infinity : Number(m[3]);
    out.push({ name: m[1], labels, value: v });
  }
  return out;
}

// Sum of every series named `name` whose labels include all of `labels`; undefined when none matches.
export function sum(samples, name, labels = {}) {
  let total;
  for (const s of samples) {
    if (s.name !== name) continue;
    if (!Object.entries(labels).every(([k, v]) => s.labels[k] === v)) continue;
    total = (total ?? 0) + s.value;
  }
  return total;
}

export async function scrape(url) {
  const r = await fetch(`${url}/metrics`);
  assert.equal(r.status, 200);
  const text = await r.text();
  return { text, contentType: r.headers.get('content-type'), samples: parseMetrics(text) };
}

// `promtool check metrics` (lint included): resolves {status, output}.
export function promtoolCheckMetrics(text) {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 20000 });
  return { status: r.status, output: `${r.stdout || ''}${r.stderr || ''}`.trim(), error: r.error };
}
