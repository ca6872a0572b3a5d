#pragma once
// Entry point of `sluice sim`: options (scenario plus overrides), the server, the start-up line.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sim/scenario.h"

namespace sluice::sim {

struct SimOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  uint64_t seed = 1;
  std::string scenario = "healthy";
  unsigned workers = 1;
  std::string api_key;
  // Overrides applied to every phase of the scenario.
  std::optional<std::size_t> slots;
  std::optional<std::string> max_wait;
  std::optional<std::string> keepalive_interval;
  std::optional<std::string> ttft;  // "P50[/P99]", e.g. "200ms/2s"
  std::optional<std::string> itl;
  std::optional<std::string> output_tokens;  // "P50[/P99]"
  std::optional<std::string> overload;       // queue | 503 | 429 | 429-retry-after
  std::optional<std::size_t> concurrency_limit;
  std::vector<std::string> models;
  std::string key_limit;       // "N" or "KEY=N,..." requests per key per window
  std::string key_window = "60s";
  std::vector<std::string> broke_keys;  // answer 402
};

// Applies command-line overrides to every phase. Returns an error message, or empty.
std::string apply_overrides(Scenario& sc, const SimOptions& o);

// Runs until SIGTERM/SIGINT; returns the process exit code.
int run_sim(const SimOptions& o);

}  // namespace sluice::sim
