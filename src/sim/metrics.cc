#include "sim/metrics.h"

#include <fmt/format.h>

#include <iterator>

#include "common/json.h"

namespace sluice::sim {

namespace {
struct CounterInfo {
  std::string_view prom;
  std::string_view json;
  std::string_view help;
};

constexpr CounterInfo kInfo[] = {
#define SLUICE_SIM_INFO(e, p, j, h) {p, j, h},
    SLUICE_SIM_COUNTERS(SLUICE_SIM_INFO)
#undef SLUICE_SIM_INFO
};

void header(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  fmt::format_to(std::back_inserter(out), "# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}
}  // namespace

std::string Stats::prometheus(const Gauges& g) const {
  std::string out;
  out.reserve(4096);
  auto it = std::back_inserter(out);
  std::string model = json_string(g.model);  // a quoted, escaped label value
  header(out, "vllm:num_requests_running", "gauge", "Number of requests currently running on GPU.");
  fmt::format_to(it, "vllm:num_requests_running{{model_name={}}} {}\n", model, g.running);
  header(out, "vllm:num_requests_waiting", "gauge", "Number of requests waiting to be processed.");
  fmt::format_to(it, "vllm:num_requests_waiting{{model_name={}}} {}\n", model, g.waiting);
  header(out, "vllm:kv_cache_usage_perc", "gauge", "KV-cache usage. 1 means 100 percent usage.");
  fmt::format_to(it, "vllm:kv_cache_usage_perc{{model_name={}}} {:.6f}\n", model, g.kv_usage);
  header(out, "vllm:gpu_cache_usage_perc", "gauge", "GPU KV-cache usage (old name).");
  fmt::format_to(it, "vllm:gpu_cache_usage_perc{{model_name={}}} {:.6f}\n", model, g.kv_usage);
  header(out, "vllm:cache_config_info", "gauge", "Information of the LLMEngine CacheConfig.");
  fmt::format_to(it, "vllm:cache_config_info{{block_size=\"16\",num_gpu_blocks=\"{}\",model_name={}}} 1\n",
                 g.kv_blocks, model);
  header(out, "vllm:request_success_total", "counter", "Count of successfully processed requests.");
  fmt::format_to(it, "vllm:request_success_total{{finished_reason=\"stop\",model_name={}}} {}\n", model,
                 get(Counter::kSuccessStop));
  fmt::format_to(it, "vllm:request_success_total{{finished_reason=\"length\",model_name={}}} {}\n", model,
                 get(Counter::kSuccessLength));
  fmt::format_to(it, "vllm:request_success_total{{finished_reason=\"abort\",model_name={}}} {}\n", model,
                 get(Counter::kSuccessTruncated));
  for (std::size_t i = 0; i < std::size(kInfo); ++i) {
    if (kInfo[i].prom.empty()) {
      continue;
    }
    header(out, kInfo[i].prom, "counter", kInfo[i].help);
    bool vllm = kInfo[i].prom.starts_with("vllm:");
    if (vllm) {
      fmt::format_to(it, "{}{{model_name={}}} {}\n", kInfo[i].prom, model,
                     counters_[i].load(std::memory_order_relaxed));
    } else {
      fmt::format_to(it, "{} {}\n", kInfo[i].prom, counters_[i].load(std::memory_order_relaxed));
    }
  }
  header(out, "sim_faults_injected_total", "counter", "Faults injected, by kind.");
  const std::pair<std::string_view, Counter> faults[] = {
      {"reset_before_headers", Counter::kFaultResetBeforeHeaders},
      {"reset_mid_stream", Counter::kFaultResetMidStream},
      {"stall", Counter::kFaultStall},
      {"truncate", Counter::kFaultTruncate},
      {"malformed", Counter::kFaultMalformed},
      {"slow_first_token", Counter::kFaultSlowFirstToken},
      {"outage_refused", Counter::kOutageRefused},
      {"outage_errors", Counter::kOutageErrors}};
  for (const auto& [kind, c] : faults) {
    fmt::format_to(it, "sim_faults_injected_total{{kind=\"{}\"}} {}\n", kind, get(c));
  }
  header(out, "sim_error_responses_total", "counter", "Error responses sent, by status code.");
  bool any = false;
  for (unsigned s = 400; s < 600; ++s) {
    if (uint64_t n = status_count(s)) {
      fmt::format_to(it, "sim_error_responses_total{{code=\"{}\"}} {}\n", s, n);
      any = true;
    }
  }
  if (!any) {
    out += "sim_error_responses_total{code=\"503\"} 0\n";
  }
  header(out, "sim_slots", "gauge", "GPU slots in the current phase.");
  fmt::format_to(it, "sim_slots {}\n", g.slots);
  header(out, "sim_phase_info", "gauge", "The scenario phase in force.");
  fmt::format_to(it, "sim_phase_info{{phase={}}} 1\n", json_string(g.phase));
  return out;
}

std::string Stats::json(const Gauges& g) const {
  std::string out;
  out.reserve(1024);
  auto it = std::back_inserter(out);
  out += "{\"phase\":";
  append_json_string(out, g.phase);
  fmt::format_to(it, ",\"running\":{},\"waiting\":{},\"slots\":{},\"kv_cache_usage_perc\":{:.6f},\"uptime_ms\":{}",
                 g.running, g.waiting, g.slots, g.kv_usage, g.uptime_ms);
  for (std::size_t i = 0; i < std::size(kInfo); ++i) {
    fmt::format_to(it, ",\"{}\":{}", kInfo[i].json, counters_[i].load(std::memory_order_relaxed));
  }
  out += ",\"errors\":{";
  bool first = true;
  for (unsigned s = 400; s < 600; ++s) {
    if (uint64_t n = status_count(s)) {
      fmt::format_to(it, "{}\"{}\":{}", first ? "" : ",", s, n);
      first = false;
    }
  }
  out += "}}";
  return out;
}

}  // namespace sluice::sim
