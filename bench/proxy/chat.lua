-- wrk script: POST /v1/chat/completions with a ~400-byte JSON body.
-- BENCH_STREAM=1 sends "stream": true with the model routed to the 16-chunk SSE answer.
-- done() prints one machine-readable BENCH line that bench/proxy_vs_nginx.sh parses.
local stream = os.getenv("BENCH_STREAM") == "1"
local model = stream and "deepseek-chat-stream" or "deepseek-chat"

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer sk-bench-not-checked"
wrk.body = '{"model":"' .. model .. '","messages":['
  .. '{"role":"system","content":"You are a concise assistant for a benchmark."},'
  .. '{"role":"user","content":"Explain in two sentences what a reverse proxy does, why it keeps '
  .. 'upstream connections alive, and how it relays streamed server-sent events to clients without '
  .. 'buffering them; keep the answer short."}],'
  .. '"temperature":0.7,"top_p":1,"max_tokens":256,"stream":' .. (stream and "true" or "false") .. '}'

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_us=%d rps=%.1f p50_us=%d p90_us=%d p99_us=%d max_us=%d "
      .. "err_connect=%d err_read=%d err_write=%d err_status=%d err_timeout=%d body_bytes=%d\n",
    summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    e.connect, e.read, e.write, e.status, e.timeout, #wrk.body))
end
