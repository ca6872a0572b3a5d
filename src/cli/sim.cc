// `sluice sim`: the DeepSeek "server busy" simulator (docs/sim.md).
#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/logging.h"
#include "sim/scenario.h"
#include "sim/sim_main.h"

namespace sluice::cli {

void add_sim(CLI::App& app, int& exit_code) {
  auto opts = std::make_shared<sim::SimOptions>();
  auto* sub = app.add_subcommand("sim", "Run a DeepSeek-compatible upstream simulator (overload, faults, metrics)");
  sub->add_option("--host", opts->host, "Address to listen on")->capture_default_str();
  sub->add_option("--port", opts->port, "Port (0 picks a free one; printed on stderr)")->capture_default_str();
  sub->add_option("--seed", opts->seed, "Seed for every random choice (replayable runs)")->capture_default_str();
  sub->add_option("--scenario", opts->scenario,
                  fmt::format("Built-in scenario ({}) or a YAML file", fmt::join(sim::builtin_scenario_names(), ", ")))
      ->capture_default_str();
  sub->add_option("--workers", opts->workers, "Worker threads")->capture_default_str();
  sub->add_option("--api-key", opts->api_key, "Require 'Authorization: Bearer KEY' (401 otherwise)");
  sub->add_option("--slots", opts->slots, "Concurrent GPU slots (overrides every phase)");
  sub->add_option("--max-wait", opts->max_wait, "How long a queued request waits before the sim gives up (10m)");
  sub->add_option("--keepalive-interval", opts->keepalive_interval, "Keep-alive spacing while waiting (5s)");
  sub->add_option("--ttft", opts->ttft, "Time to first token, P50[/P99], e.g. 200ms/2s (0 = instant)");
  sub->add_option("--itl", opts->itl, "Inter-token latency, P50[/P99], e.g. 10ms/50ms (0 = instant)");
  sub->add_option("--output-tokens", opts->output_tokens, "Completion length without max_tokens, P50[/P99]");
  sub->add_option("--overload", opts->overload, "When slots are full: queue, 503, 429, 429-retry-after");
  sub->add_option("--concurrency-limit", opts->concurrency_limit, "Account concurrency limit (429 beyond it)");
  sub->add_option("--models", opts->models, "Served model ids ('*' accepts any)")->delimiter(',');
  sub->add_option("--key-limit", opts->key_limit,
                  "Requests per API key per window: N, or KEY=N,KEY=N[,*=N]; x-ratelimit-* headers, 429 beyond");
  sub->add_option("--key-window", opts->key_window, "The --key-limit window")->capture_default_str();
  sub->add_option("--broke-keys", opts->broke_keys, "API keys whose balance is gone (402)")->delimiter(',');
  auto log_level = std::make_shared<std::string>("info");
  sub->add_option("--log-level", *log_level, "trace, debug, info, warn, error")->capture_default_str();
  sub->callback([opts, log_level, &exit_code] {
    setup_logging(*log_level);  // stderr
    exit_code = sim::run_sim(*opts);
  });
}

}  // namespace sluice::cli
