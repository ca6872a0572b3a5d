#pragma once
// Load-aware balancing, pure parts: reading a host's Prometheus text (vLLM and SGLang metric names) and
// turning what it reports into a cost (lower is better). The formula is documented in docs/routing.md.
#include <optional>
#include <string_view>

namespace sluice::routing {

struct ScrapedLoad {
  double running = 0;
  double waiting = 0;
  double kv_usage = 0;  // 0..1
  double capacity = 0;  // from the host's own metrics when it says (the sim's sim_slots); 0 = unknown
};

// Sums each metric over its label sets (one engine may serve several models). nullopt when the text names
// neither a running nor a waiting metric: not an inference engine's metrics page.
std::optional<ScrapedLoad> parse_load_metrics(std::string_view prometheus_text);

struct LoadInputs {
  double running = 0;
  double waiting = 0;
  double kv_usage = 0;
  double capacity = 1;         // concurrent sequences
  double sent_since_scrape = 0;  // this gateway's extra in-flight requests since the report was taken
  double ttft_ewma_ms = 0;       // the host's observed time to first token (0 = unknown)
};

// cost = (fill + 4 × queue) × kv_pressure × latency, with
//   fill = (running + sent_since_scrape + 1) / capacity, queue = waiting / capacity,
//   kv_pressure = 1 / (1 − min(kv_usage, 0.95)), latency = 1 + ttft_ewma_ms / 1000.
double load_cost(const LoadInputs& in);

}  // namespace sluice::routing
