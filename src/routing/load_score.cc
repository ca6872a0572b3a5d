#include "routing/load_score.h"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace sluice::routing {

namespace {
constexpr double kQueueWeight = 4;     // a queued request waits a whole service time; a fuller batch only slows
constexpr double kMaxKv = 0.95;        // caps kv_pressure at 20×
constexpr double kLatencyRefMs = 1000;  // 1 s of first-token latency doubles the cost

enum class Field { kRunning, kWaiting, kKv, kCapacity, kNone };

Field field_of(std::string_view name) {
  if (name == "vllm:num_requests_running" || name == "sglang:num_running_reqs") {
    return Field::kRunning;
  }
  if (name == "vllm:num_requests_waiting" || name == "sglang:num_queue_reqs") {
    return Field::kWaiting;
  }
  if (name == "vllm:kv_cache_usage_perc" || name == "vllm:gpu_cache_usage_perc" || name == "sglang:token_usage") {
    return Field::kKv;
  }
  if (name == "sim_slots") {
    return Field::kCapacity;
  }
  return Field::kNone;
}

std::optional<double> parse_value(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  s = s.substr(0, s.find_first_of(" \t\r"));  // a timestamp may follow
  if (s == "NaN" || s == "+Inf" || s == "-Inf") {
    return std::nullopt;
  }
  double v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || !std::isfinite(v)) {
    return std::nullopt;
  }
  return v;
}
}  // namespace

std::optional<ScrapedLoad> parse_load_metrics(std::string_view text) {
  ScrapedLoad out;
  bool any = false;
  double kv = -1;  // the first kv metric seen wins (vLLM exports it under two names)
  Field kv_from = Field::kNone;
  std::string_view kv_name;
  while (!text.empty()) {
    auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (line.empty() || line.front() == '#') {
      continue;
    }
    auto name_end = line.find_first_of("{ \t");
    if (name_end == std::string_view::npos) {
      continue;
    }
    std::string_view name = line.substr(0, name_end);
    Field f = field_of(name);
    if (f == Field::kNone) {
      continue;
    }
    std::string_view rest = line.substr(name_end);
    if (rest.front() == '{') {
      auto close = rest.rfind('}');
      if (close == std::string_view::npos) {
        continue;
      }
      rest.remove_prefix(close + 1);
    }
    auto v = parse_value(rest);
    if (!v || *v < 0) {
      continue;
    }
    switch (f) {
      case Field::kRunning:
        out.running += *v;
        any = true;
        break;
      case Field::kWaiting:
        out.waiting += *v;
        any = true;
        break;
      case Field::kKv:
        // Several models on one engine: the fullest cache is what limits the next request.
        if (kv_from == Field::kNone || name == kv_name) {
          kv = std::max(kv, *v);
          kv_from = f;
          kv_name = name;
        }
        break;
      case Field::kCapacity:
        out.capacity += *v;
        break;
      case Field::kNone:
        break;
    }
  }
  if (!any) {
    return std::nullopt;
  }
  out.kv_usage = kv < 0 ? 0 : std::min(1.0, kv);
  return out;
}

double load_cost(const LoadInputs& in) {
  const double cap = std::max(1.0, in.capacity);
  const double fill = (std::max(0.0, in.running) + std::max(0.0, in.sent_since_scrape) + 1) / cap;
  const double queue = std::max(0.0, in.waiting) / cap;
  const double kv_pressure = 1 / (1 - std::clamp(in.kv_usage, 0.0, kMaxKv));
  const double latency = 1 + std::max(0.0, in.ttft_ewma_ms) / kLatencyRefMs;
  return (fill + kQueueWeight * queue) * kv_pressure * latency;
}

}  // namespace sluice::routing
