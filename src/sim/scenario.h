#pragma once
// Scenarios: a timeline of phases, each a complete description of how the simulated upstream behaves
// (capacity, latency, overload policy, error and fault rates, outages). Parsed from YAML or a built-in.
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sim/distributions.h"

namespace sluice::sim {

using Ms = std::chrono::milliseconds;

// What happens when every slot is busy.
enum class OverloadPolicy {
  kQueue,             // wait in FIFO with keep-alives, give up after max_wait (DeepSeek's "server busy")
  kReject503,         // 503 "Server overloaded"
  kReject429,         // 429 without Retry-After
  kReject429RetryAfter,  // 429 with Retry-After
};

enum class OutageMode { kNone, kErrors, kRefuse };

struct FaultRates {
  double reset_before_headers = 0;
  double reset_mid_stream = 0;
  double stall = 0;
  double truncate = 0;
  double malformed = 0;
  double slow_first_token = 0;
  Ms slow_first_token_ttft{30'000};
};

struct Phase {
  std::string name = "default";
  std::optional<Ms> duration;  // nullopt: lasts forever (only meaningful for the last phase)
  std::size_t slots = 64;
  std::size_t account_concurrency = 0;  // 0: unlimited; beyond it → 429 (DeepSeek's per-account limit)
  std::size_t max_queue = 0;            // 0: unbounded queue
  OverloadPolicy overload = OverloadPolicy::kQueue;
  Ms max_wait{600'000};
  Ms keepalive_interval{5'000};
  Ms retry_after{1'000};
  LatencyDist ttft{LogNormal{0, 0}};  // milliseconds
  LatencyDist itl{LogNormal{0, 0}};   // milliseconds per token
  LogNormal output_tokens{64, 512};   // when the request sets no max_tokens, or more than this
  uint64_t kv_tokens_per_slot = 8192;
  std::map<unsigned, double> errors;  // status → probability
  FaultRates faults;
  OutageMode outage = OutageMode::kNone;
  unsigned outage_status = 503;
};

struct Scenario {
  std::string name = "healthy";
  std::vector<std::string> models{"deepseek-chat", "deepseek-reasoner"};
  bool loop = false;  // restart the timeline after the last phase
  std::vector<Phase> phases{Phase{}};

  // The phase in force `elapsed` after start, and its index.
  std::size_t phase_index_at(Ms elapsed) const;
  const Phase& phase_at(Ms elapsed) const { return phases[phase_index_at(elapsed)]; }
};

struct ScenarioParse {
  std::optional<Scenario> scenario;
  std::string error;  // "file:line: path: message"
};

ScenarioParse parse_scenario_yaml(std::string_view text, std::string_view filename);
ScenarioParse load_scenario_file(const std::string& path);
// A built-in by name, or nullopt.
std::optional<Scenario> builtin_scenario(std::string_view name);
std::vector<std::string_view> builtin_scenario_names();
// A built-in name or a YAML file path.
ScenarioParse resolve_scenario(const std::string& name_or_path);

std::string_view to_string(OverloadPolicy p);

}  // namespace sluice::sim
