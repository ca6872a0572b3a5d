-- wrk script: non-stream chat completions against `sluice sim` (see docs/benchmarks.md, "sluice sim").
wrk.method = "POST"
wrk.path = "/v1/chat/completions"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"model":"deepseek-chat","max_tokens":16,"messages":[{"role":"user","content":"Hello, how are you today?"}]}'
