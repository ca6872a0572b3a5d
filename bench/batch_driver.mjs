// Batch benchmark driver (bench/batch_schedule.sh, bench/batch_crash.sh): submits batches through the gateway's
// Batch API, waits for them, and reports as JSON. Plain fetch, no dependencies.
//
//   node bench/batch_driver.mjs submit URL KEY LINES WINDOW [SCHEDULE] [PREFIX]   → prints the batch id
//   node bench/batch_driver.mjs wait URL KEY TIMEOUT_S ID...                      → waits until all are final
//   node bench/batch_driver.mjs report URL KEY ID...                              → {batches:[...], totals}
//   node bench/batch_driver.mjs check-output URL KEY LINES ID                    → every custom_id exactly once
import process from 'node:process';

const [cmd, url, key, ...rest] = process.argv.slice(2);
const auth = { Authorization: `Bearer ${key}` };
const FINAL = new Set(['completed', 'expired', 'cancelled', 'failed']);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function api(path, init = {}) {
  const r = await fetch(`${url}${path}`, { ...init, headers: { ...auth, ...(init.headers || {}) } });
  const text = await r.text();
  if (!r.ok) throw new Error(`${init.method || 'GET'} ${path}: ${r.status} ${text}`);
  return text;
}

function jsonl(lines, prefix) {
  let out = '';
  for (let i = 0; i < lines; i++) {
    out += JSON.stringify({
      custom_id: `${prefix}-${i}`, method: 'POST', url: '/v1/chat/completions',
      body: { model: 'deepseek-chat', max_tokens: 64, messages: [{ role: 'user', content: `Summarise item ${i} of ${prefix}.` }] },
    }) + '\n';
  }
  return out;
}

async function submit([lines, window, schedule = 'off_peak', prefix = 'b']) {
  const form = new FormData();
  form.append('purpose', 'batch');
  form.append('file', new Blob([jsonl(Number(lines), prefix)]), `${prefix}.jsonl`);
  const file = JSON.parse(await api('/v1/files', { method: 'POST', body: form }));
  const batch = JSON.parse(await api('/v1/batches', {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: window,
      metadata: { sluice_schedule: schedule } }),
  }));
  console.log(batch.id);
}

async function wait([timeoutS, ...ids]) {
  const until = Date.now() + Number(timeoutS) * 1000;
  for (;;) {
    const states = await Promise.all(ids.map(async (id) => JSON.parse(await api(`/v1/batches/${id}`)).status));
    if (states.every((s) => FINAL.has(s))) return;
    if (Date.now() > until) throw new Error(`not final after ${timeoutS} s: ${states.join(', ')}`);
    await sleep(500);
  }
}

async function report(ids) {
  const batches = [];
  const totals = { lines: 0, completed: 0, failed: 0, cost_usd: 0, full_price_usd: 0, estimate_now_usd: 0,
    estimate_scheduled_usd: 0, missed_deadlines: 0 };
  for (const id of ids) {
    const b = JSON.parse(await api(`/v1/batches/${id}`));
    const done = b.completed_at || b.expired_at || b.cancelled_at || b.failed_at;
    const row = { id, window: b.completion_window, schedule: b.sluice_estimate?.schedule, status: b.status,
      lines: b.request_counts.total, completed: b.request_counts.completed, failed: b.request_counts.failed,
      created_at: b.created_at, expires_at: b.expires_at, finished_at: done,
      met_deadline: b.status === 'completed' && done <= b.expires_at,
      cost_usd: b.sluice_usage.cost_usd, full_price_usd: b.sluice_usage.full_price_usd,
      estimate_now_usd: b.sluice_estimate?.cost_now_usd, estimate_scheduled_usd: b.sluice_estimate?.cost_scheduled_usd };
    batches.push(row);
    for (const k of ['lines', 'completed', 'failed', 'cost_usd', 'full_price_usd', 'estimate_now_usd',
      'estimate_scheduled_usd']) totals[k] += row[k] || 0;
    totals.missed_deadlines += row.met_deadline ? 0 : 1;
  }
  totals.saving_vs_full_price = totals.full_price_usd > 0 ? 1 - totals.cost_usd / totals.full_price_usd : 0;
  console.log(JSON.stringify({ batches, totals }, null, 1));
}

async function checkOutput([lines, id]) {
  const b = JSON.parse(await api(`/v1/batches/${id}`));
  const seen = new Map();
  for (const fileId of [b.output_file_id, b.error_file_id].filter(Boolean)) {
    for (const l of (await api(`/v1/files/${fileId}/content`)).split('\n').filter(Boolean)) {
      const o = JSON.parse(l);
      seen.set(o.custom_id, (seen.get(o.custom_id) || 0) + 1);
    }
  }
  const dupes = [...seen].filter(([, n]) => n > 1).length;
  const missing = Number(lines) - seen.size;
  console.log(JSON.stringify({ id, status: b.status, lines: Number(lines), distinct: seen.size, duplicates: dupes,
    missing, completed: b.request_counts.completed, prompt_tokens: b.sluice_usage.prompt_tokens }));
  if (dupes || missing) process.exitCode = 1;
}

const commands = { submit, wait, report: (a) => report(a), 'check-output': checkOutput };
if (!commands[cmd]) {
  console.error('usage: batch_driver.mjs submit|wait|report|check-output URL KEY ...');
  process.exit(2);
}
await commands[cmd](rest).catch((e) => { console.error(`batch_driver: ${e.message}`); process.exit(1); });
