// `sluice bench`: an LLM load generator (docs/bench.md).
#include "bench/bench_main.h"
#include "cli/commands.h"

namespace sluice::cli {

void add_bench(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<bench::BenchOptions>();
  auto* sub =
      app.add_subcommand("bench", "Load-test an OpenAI-compatible endpoint (open or closed loop, streaming)");
  sub->add_option("--url", o->urls,
                  "Target base URL, repeatable (requests go round-robin), e.g. http://127.0.0.1:8080")
      ->required();
  sub->add_option("--model", o->model, "Model id sent in every request")->capture_default_str();
  sub->add_flag("--stream", o->stream, "Streaming requests (SSE); measures TTFT and inter-token latency");
  sub->add_option("--rate", o->rate, "Open loop: Poisson arrivals at this many requests/s");
  sub->add_option("--concurrency", o->concurrency, "Closed loop: requests in flight (default 8)");
  sub->add_option("--requests", o->requests, "Stop after this many requests");
  sub->add_option("--duration", o->duration,
                  "Stop starting requests after this long, e.g. 30s (default 10s without --requests)");
  sub->add_option("--max-tokens", o->max_tokens, "max_tokens of each request")->capture_default_str();
  sub->add_option("--prompts", o->prompts_file,
                  "JSONL prompts: {\"messages\":[...]} or {\"prompt\":\"...\"} per line");
  sub->add_option("--prompt-tokens", o->prompt_tokens, "Size of the built-in prompts in tokens")
      ->capture_default_str();
  sub->add_option("--header", o->headers, "Extra request header 'Name: value', repeatable");
  sub->add_option("--mix", o->mix,
                  "Per-request header mix 'Name: v1=w1,v2=w2' (e.g. 'X-Priority: high=20,low=80'); the report "
                  "breaks results down by class");
  sub->add_option("--api-key", o->api_key, "Sent as 'Authorization: Bearer KEY'");
  sub->add_option("--timeout", o->timeout, "Per-request deadline (open loop: from the scheduled time)")
      ->capture_default_str();
  sub->add_option("--seed", o->seed, "Seed of the arrival schedule and the built-in prompts")
      ->capture_default_str();
  sub->add_option("--json", o->json_out, "Write the results as JSON to FILE ('-' = stdout, table to stderr)");
  sub->add_option("--html", o->html_out, "Write an HTML report with charts to FILE");
  sub->add_option("--connections", o->connections,
                  "Max connections per target (default: concurrency, or 256 in open loop)");
  sub->add_option("--engine-out", o->engine_out,
                  "Write the engine's prefill and decode rates at this concurrency to FILE for `sluice plan` "
                  "(needs --stream and --concurrency)");
  sub->add_option("--engine-gpus", o->engine_gpus, "GPUs of the engine replica measured (for --engine-out)")
      ->capture_default_str();
  sub->add_flag("--insecure", o->insecure, "Do not verify TLS certificates");
  sub->add_flag("--quiet", o->quiet, "No progress line");
  sub->add_flag("--no-include-usage", o->no_include_usage,
                "Streams: do not ask for stream_options.include_usage");
  sub->callback([o, &exit_code] { exit_code = bench::run_bench(*o); });
}

}  // namespace sluice::cli
