// One request through the gateway with the official openai SDK (its own retries off), as an application
// would send it, and what came back: status, text, finish_reason, the stream's shape and the verdict.
import OpenAI from 'openai';
import { judge } from './check.mjs';

// fetch that remembers the HTTP status and whether the raw stream carried `data: [DONE]` (the SDK hides it).
function recordingFetch(rec) {
  return async (url, init) => {
    const r = await fetch(url, init);
    rec.status = r.status;
    if (!r.body || !(r.headers.get('content-type') ?? '').includes('event-stream')) return r;
    const dec = new TextDecoder();
    let tail = '';
    const scan = new TransformStream({
      transform(chunk, ctl) {
        const s = tail + dec.decode(chunk, { stream: true });
        if (s.includes('data: [DONE]')) rec.done = true;
        tail = s.slice(-16);
        ctl.enqueue(chunk);
      },
    });
    return new Response(r.body.pipeThrough(scan), { status: r.status, statusText: r.statusText, headers: r.headers });
  };
}

function errorCode(e, rec) {
  if (e instanceof OpenAI.APIConnectionError) {
    const c = e.cause?.cause ?? e.cause;
    return `connection error: ${c?.code ?? c?.message ?? e.message}`.slice(0, 120);
  }
  if (e instanceof OpenAI.APIError && e.status) return `${e.status} ${e.error?.code ?? e.error?.type ?? e.code ?? ''}`.trim();
  if (e instanceof OpenAI.APIError) return `stream error event ${e.error?.code ?? e.error?.type ?? e.message}`;
  return `${rec.status ? `${rec.status} ` : ''}${e.name}: ${e.message}`.slice(0, 120);
}

// req: {rid, stream, includeUsage, maxTokens, messages, want}; returns the outcome record.
export async function send(baseURL, req, deadlineMs) {
  const rec = { status: 0, done: false };
  const client = new OpenAI({
    baseURL, apiKey: 'conformance-client', maxRetries: 0, timeout: deadlineMs, fetch: recordingFetch(rec), logLevel: 'off',
  });
  const abort = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => { timedOut = true; abort.abort(); }, deadlineMs);
  const body = {
    model: 'deepseek-chat', messages: req.messages, stream: req.stream,
    ...(req.maxTokens ? { max_tokens: req.maxTokens } : {}),
    ...(req.includeUsage ? { stream_options: { include_usage: true } } : {}),
  };
  const r = { rid: req.rid, stream: req.stream, text: '', finish: null, inbandError: null, roles: 0, finishes: 0, ids: new Set(), usages: [] };
  const t0 = performance.now();
  let thrown = null;
  try {
    const res = await client.chat.completions.create(body, { headers: { 'x-request-id': req.rid }, signal: abort.signal });
    if (req.stream) {
      for await (const c of res) {
        r.ids.add(c.id);
        if (c.usage) r.usages.push(c.usage);
        const ch = c.choices?.[0];
        if (ch?.delta?.role) r.roles++;
        r.text += ch?.delta?.content ?? '';
        if (ch?.finish_reason) { r.finishes++; r.finish = ch.finish_reason; }
      }
    } else {
      const ch = res.choices?.[0];
      r.text = ch?.message?.content ?? '';
      r.finish = ch?.finish_reason ?? null;
      if (res.usage) r.usages.push(res.usage);
    }
  } catch (e) {
    thrown = e;
  }
  clearTimeout(timer);
  r.ms = performance.now() - t0;
  r.status = rec.status;
  r.done = rec.done;
  return { ...r, ids: r.ids.size, ...verdict(r, req, thrown, timedOut) };
}

function verdict(r, req, e, timedOut) {
  if (timedOut) return { kind: 'hang', code: `no answer within the client deadline (${r.status || 'no status'})`, lost: 0, dup: 0 };
  const transport = e instanceof OpenAI.APIConnectionError || e instanceof OpenAI.APIUserAbortError;
  if (e instanceof OpenAI.APIError && e.status) return { kind: 'error', code: errorCode(e, r), lost: 0, dup: 0 };
  if (e instanceof OpenAI.APIError && !transport) return judge({ ...r, inbandError: errorCode(e, r) }, req.want);
  if (e && !r.status) return { kind: 'dropped', code: errorCode(e, r), lost: 0, dup: 0 };
  if (e instanceof SyntaxError) return { kind: 'dishonest', code: `${r.stream ? 'malformed chunk' : 'unparseable 200 body'} forwarded`, lost: 0, dup: 0 };
  if (e) return { kind: 'dishonest', code: `${r.stream ? 'stream cut without error event' : '200 body cut'}: ${e.message}`.slice(0, 100), lost: 0, dup: 0 };
  return judge(r, req.want);
}

// Not a verdict: stream-shape and usage remarks on otherwise successful answers (reported, not enforced).
export function remarks(o, req) {
  const out = [];
  if (o.kind !== 'ok') return out;
  if (o.stream) {
    if (!o.done) out.push('no [DONE]');
    if (o.roles !== 1) out.push(`${o.roles} role chunks`);
    if (o.finishes !== 1) out.push(`${o.finishes} finish chunks`);
    if (o.ids !== 1) out.push(`${o.ids} ids`);
  }
  const wantUsage = !o.stream || req.includeUsage;
  if (wantUsage && o.usages.length !== 1) out.push(`${o.usages.length} usage objects`);
  const u = o.usages.at(-1);
  if (u && u.completion_tokens !== req.want.tokens) out.push('usage.completion_tokens off');
  return out;
}
