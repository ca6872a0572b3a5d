// The /ui dashboard: one self-contained page (inline CSS and JS, no external assets), embedded in the binary.
// It polls /ui/state every second (upstream states plus the Prometheus exposition text) and computes rates and
// quantiles over a sliding window of its own polls. Panels whose metrics are absent say "not configured".
#include "gateway/admin_api.h"

namespace sluice::gateway {

namespace {
constexpr std::string_view kDashboardHtml = R"HTML(<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<link rel="icon" href="data:,">
<title>sluice dashboard</title>
<style>
:root{--bg:#0f1419;--panel:#1a2029;--fg:#e6e6e6;--dim:#8a94a3;--ok:#3fb950;--bad:#f85149;--warn:#d29922;--off:#6e7681}
*{box-sizing:border-box}body{margin:0;font:14px/1.4 system-ui,sans-serif;background:var(--bg);color:var(--fg)}
header{display:flex;gap:16px;align-items:baseline;padding:12px 20px;border-bottom:1px solid #2d333b}
header h1{font-size:18px;margin:0}#conn{color:var(--dim)}#conn.bad{color:var(--bad)}
main{display:grid;grid-template-columns:repeat(auto-fit,minmax(220px,1fr));gap:12px;padding:16px 20px}
.panel{background:var(--panel);border-radius:8px;padding:12px 14px}.panel h2{font-size:12px;text-transform:uppercase;
letter-spacing:.06em;color:var(--dim);margin:0 0 6px}.big{font-size:28px;font-weight:600}.sub{color:var(--dim)}
.wide{grid-column:1/-1}table{width:100%;border-collapse:collapse}th,td{text-align:left;padding:5px 8px;
border-bottom:1px solid #2d333b}th{color:var(--dim);font-weight:500}td.num{text-align:right;font-variant-numeric:tabular-nums}
.state{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600;color:#0f1419}
.state.healthy{background:var(--ok)}.state.ejected{background:var(--bad)}.state.probation{background:var(--warn)}
.state.drained{background:var(--off);color:var(--fg)}.nc{color:var(--dim);font-style:italic;font-size:14px;font-weight:400}
button{background:#2d333b;color:var(--fg);border:1px solid #444c56;border-radius:4px;padding:2px 8px;cursor:pointer}
</style></head>
<body>
<header><h1>sluice</h1><span id="gen" class="sub"></span><span id="conn">connecting…</span></header>
<main>
 <section class="panel"><h2>Requests / s</h2><div id="rps" class="big">–</div><div id="rps-sub" class="sub"></div></section>
 <section class="panel"><h2>Success rate</h2><div id="success" class="big">–</div><div id="success-sub" class="sub"></div></section>
 <section class="panel"><h2>TTFT p50 / p99</h2><div id="ttft" class="big">–</div><div id="ttft-sub" class="sub"></div></section>
 <section class="panel"><h2>Cache hit rate</h2><div id="cache" class="big">–</div><div id="cache-sub" class="sub"></div></section>
 <section class="panel"><h2>Spend today</h2><div id="spend" class="big">–</div><div id="spend-sub" class="sub"></div></section>
 <section class="panel"><h2>Queue depth by priority, adaptive limits</h2><div id="queue">–</div></section>
 <section class="panel wide"><h2>Upstreams</h2>
  <table><thead><tr><th>upstream</th><th>state</th><th class="num">in flight</th><th class="num">EWMA TTFT</th>
  <th class="num">failures</th><th class="num">ejections</th><th>ejected until</th><th class="num">adaptive limit</th><th></th></tr></thead>
  <tbody id="upstreams"></tbody></table></section>
</main>
<script>
"use strict";
const key = new URLSearchParams(location.hash.slice(1)).get("key");
const auth = key ? {Authorization: "Bearer " + key} : {};
const WINDOW_MS = 10000;
const history = [];  // [{t, m}] successive polls, newest last
const $ = (id) => document.getElementById(id);
const NC = '<span class="nc">not configured</span>';

function parseProm(text) {
  const out = new Map();
  for (const line of (text || "").split("\n")) {
    if (!line || line[0] === "#") continue;
    const r = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!r) continue;
    const labels = {};
    if (r[2]) for (const l of r[2].matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    if (!out.has(r[1])) out.set(r[1], []);
    out.get(r[1]).push({labels, value: Number(r[3])});
  }
  return out;
}
const has = (m, name) => m && m.has(name);
function sum(m, name, pred = () => true) {
  let s = 0;
  for (const x of (m && m.get(name)) || []) if (pred(x.labels)) s += x.value;
  return s;
}
// The oldest poll inside the window (or the previous one), to difference counters against.
function baseline(now) {
  let b = null;
  for (const h of history) if (now.t - h.t <= WINDOW_MS && h !== now) { b = h; break; }
  return b;
}
// Histogram quantile over the window's bucket deltas (Prometheus-style linear interpolation).
function quantile(q, now, base, name) {
  const per = new Map();
  for (const x of now.m.get(name + "_bucket") || []) per.set(x.labels.le, (per.get(x.labels.le) || 0) + x.value);
  if (base) for (const x of base.m.get(name + "_bucket") || []) per.set(x.labels.le, (per.get(x.labels.le) || 0) - x.value);
  const b = [...per.entries()].map(([le, c]) => [le === "+Inf" ? Infinity : Number(le), c]).sort((a, c) => a[0] - c[0]);
  const total = b.length ? b[b.length - 1][1] : 0;
  if (total <= 0) return null;
  const rank = q * total;
  let prevLe = 0, prevC = 0;
  for (const [le, c] of b) {
    if (c >= rank) {
      if (le === Infinity) return prevLe;
      return prevLe + (le - prevLe) * (c === prevC ? 0 : (rank - prevC) / (c - prevC));
    }
    prevLe = le; prevC = c;
  }
  return prevLe;
}
const ms = (s) => s === null ? "–" : s < 1 ? (s * 1000).toFixed(0) + " ms" : s.toFixed(2) + " s";
const pct = (x) => (100 * x).toFixed(1) + " %";
function esc(s) { return String(s).replace(/[&<>"']/g, (c) => "&#" + c.charCodeAt(0) + ";"); }

function renderMetrics(now, state) {
  const m = now.m;
  const base = baseline(now);
  const dt = base ? (now.t - base.t) / 1000 : 0;
  const d = (name, pred) => sum(m, name, pred) - (base ? sum(base.m, name, pred) : 0);
  if (!state.metrics) {
    for (const id of ["rps", "success", "ttft", "cache", "spend", "queue"]) $(id).innerHTML = NC;
    return;
  }
  if (has(m, "sluice_requests_total")) {
    const n = d("sluice_requests_total");
    $("rps").textContent = dt > 0 ? (n / dt).toFixed(1) : "–";
    $("rps-sub").textContent = "total " + sum(m, "sluice_requests_total");
    const bad = d("sluice_requests_total", (l) => l.status_class === "5xx");
    $("success").textContent = n > 0 ? pct(1 - bad / n) : "–";
    $("success-sub").textContent = n > 0 ? `${bad} server errors in ${dt.toFixed(0)} s` : "no requests in the window";
  } else { $("rps").innerHTML = NC; $("success").innerHTML = NC; }
  if (has(m, "sluice_ttft_seconds_bucket")) {
    let p50 = quantile(0.5, now, base, "sluice_ttft_seconds"), p99 = quantile(0.99, now, base, "sluice_ttft_seconds");
    let note = "last " + (WINDOW_MS / 1000) + " s";
    if (p50 === null) { p50 = quantile(0.5, now, null, "sluice_ttft_seconds"); p99 = quantile(0.99, now, null, "sluice_ttft_seconds"); note = "since start"; }
    $("ttft").textContent = ms(p50) + " / " + ms(p99);
    $("ttft-sub").textContent = note;
  } else $("ttft").innerHTML = NC;
  if (has(m, "sluice_cache_requests_total")) {
    const all = d("sluice_cache_requests_total", (l) => l.result !== "bypass");
    const hits = d("sluice_cache_requests_total", (l) => l.result === "hit" || l.result === "stale");
    const totAll = sum(m, "sluice_cache_requests_total", (l) => l.result !== "bypass");
    const totHit = sum(m, "sluice_cache_requests_total", (l) => l.result === "hit" || l.result === "stale");
    $("cache").textContent = all > 0 ? pct(hits / all) : totAll > 0 ? pct(totHit / totAll) : "–";
    $("cache-sub").textContent = all > 0 ? "last " + (WINDOW_MS / 1000) + " s" : "since start";
  } else $("cache").innerHTML = NC;
  if (state.spend_today_usd !== null && state.spend_today_usd !== undefined) {
    $("spend").textContent = "$" + state.spend_today_usd.toFixed(4);
    $("spend-sub").textContent = "UTC day, since " + (state.spend_since || "start");
  } else $("spend").innerHTML = NC;
  if (has(m, "sluice_queue_depth")) {
    const by = new Map();
    for (const x of m.get("sluice_queue_depth")) by.set(x.labels.priority || "-", (by.get(x.labels.priority || "-") || 0) + x.value);
    const limits = (m.get("sluice_concurrency_limit") || []).map((x) =>
      `<tr><td>limit ${esc(x.labels.group || "")}</td><td class="num">${x.value}</td></tr>`);
    $("queue").innerHTML = "<table>" + [...by.entries()].map(([p, v]) =>
      `<tr><td>${esc(p)}</td><td class="num">${v}</td></tr>`).join("") + limits.join("") + "</table>";
  } else $("queue").innerHTML = NC;
}

function limitFor(m, name) {
  // Shown when admission exports a per-upstream adaptive limit; per-group limits are in the queue panel.
  for (const x of (m && m.get("sluice_upstream_concurrency_limit")) || []) if (x.labels.upstream === name) return x.value;
  return null;
}

function renderUpstreams(state, m) {
  $("upstreams").innerHTML = state.upstreams.map((u) => {
    const limit = limitFor(m, u.name);
    const action = u.drained ? "undrain" : "drain";
    return `<tr data-upstream="${esc(u.name)}"><td>${esc(u.name)}<div class="sub">${esc(u.url)}</div></td>` +
      `<td><span class="state ${esc(u.state)}">${esc(u.state)}</span></td>` +
      `<td class="num">${u.in_flight}</td><td class="num">${u.ewma_ttft_ms ? u.ewma_ttft_ms.toFixed(0) + " ms" : "–"}</td>` +
      `<td class="num">${u.consecutive_failures}</td><td class="num">${u.times_ejected}</td>` +
      `<td>${u.ejected_until ? esc(u.ejected_until) : "–"}</td><td class="num">${limit === null ? "–" : limit}</td>` +
      `<td><button data-act="${action}" data-name="${esc(u.name)}">${action}</button></td></tr>`;
  }).join("");
}

document.addEventListener("click", async (ev) => {
  const b = ev.target.closest("button[data-act]");
  if (!b) return;
  await fetch(`/admin/upstreams/${encodeURIComponent(b.dataset.name)}/${b.dataset.act}`, {method: "POST", headers: auth}).catch(() => {});
  poll();
});

let inFlight = false;
async function poll() {
  if (inFlight) return;
  inFlight = true;
  try {
    const r = await fetch("/ui/state", {headers: auth, cache: "no-store"});
    if (!r.ok) {
      $("conn").textContent = r.status === 401 ? "admin key required: open /ui#key=YOUR_KEY" : "HTTP " + r.status;
      $("conn").className = "bad";
      return;
    }
    const state = await r.json();
    const now = {t: state.time_ms, m: parseProm(state.metrics)};
    history.push(now);
    while (history.length > 0 && now.t - history[0].t > WINDOW_MS + 2000) history.shift();
    $("conn").textContent = "updated " + new Date(state.time_ms).toLocaleTimeString();
    $("conn").className = "";
    $("gen").textContent = "config generation " + state.reloads.generation;
    renderMetrics(now, state);
    renderUpstreams(state, now.m);
    document.body.dataset.polls = String(Number(document.body.dataset.polls || 0) + 1);
  } catch (e) {
    $("conn").textContent = "disconnected";
    $("conn").className = "bad";
  } finally {
    inFlight = false;
  }
}
poll();
setInterval(poll, 1000);
</script>
</body></html>
)HTML";
}  // namespace

std::string_view dashboard_html() { return kDashboardHtml; }

}  // namespace sluice::gateway
