#pragma once
// The sim's counters (one table, relaxed atomics: the hot path only increments) and their exposition as
// vLLM-style Prometheus text and as JSON for tests.
#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

namespace sluice::sim {

// X(enum, prometheus name, json name, help)
#define SLUICE_SIM_COUNTERS(X)                                                                          \
  X(kRequests, "sim_requests_total", "requests", "Requests received on completion endpoints")           \
  X(kSuccessStop, "", "success_stop", "")                                                               \
  X(kSuccessLength, "", "success_length", "")                                                           \
  X(kSuccessTruncated, "", "success_insufficient_system_resource", "")                                  \
  X(kClientDisconnects, "sim_client_disconnects_total", "client_disconnects",                           \
    "Requests whose client went away before the response was complete")                                \
  X(kStreamsCancelled, "sim_streams_cancelled_total", "streams_cancelled",                              \
    "Streaming responses cancelled by the client mid-stream")                                          \
  X(kQueueAbandoned, "sim_queue_abandoned_total", "queue_abandoned",                                    \
    "Requests whose client left while they waited for a slot")                                          \
  X(kQueueTimeouts, "sim_queue_timeouts_total", "queue_timeouts",                                       \
    "Requests closed after the max wait without starting (blank body)")                                 \
  X(kQueued, "sim_queued_total", "queued", "Requests that had to wait for a slot")                       \
  X(kKeepalives, "sim_keepalives_sent_total", "keepalives_sent", "Keep-alive blank lines or comments")   \
  X(kRejectedOverload, "sim_overload_rejections_total", "overload_rejections",                          \
    "Requests refused by the overload policy (503/429)")                                               \
  X(kRejectedConcurrency, "sim_concurrency_rejections_total", "concurrency_rejections",                  \
    "Requests refused by the account concurrency limit (429)")                                          \
  X(kPromptTokens, "vllm:prompt_tokens_total", "prompt_tokens", "Prefill tokens processed")             \
  X(kGenerationTokens, "vllm:generation_tokens_total", "generation_tokens", "Generation tokens")         \
  X(kCacheQueries, "vllm:prefix_cache_queries_total", "prefix_cache_queries",                           \
    "Prefix cache queries, in tokens")                                                                  \
  X(kCacheHits, "vllm:prefix_cache_hits_total", "prefix_cache_hits", "Prefix cache hits, in tokens")    \
  X(kFaultResetBeforeHeaders, "", "fault_reset_before_headers", "")                                     \
  X(kFaultResetMidStream, "", "fault_reset_mid_stream", "")                                             \
  X(kFaultStall, "", "fault_stall", "")                                                                 \
  X(kFaultTruncate, "", "fault_truncate", "")                                                           \
  X(kFaultMalformed, "", "fault_malformed", "")                                                         \
  X(kFaultSlowFirstToken, "", "fault_slow_first_token", "")                                             \
  X(kOutageRefused, "", "outage_refused", "")                                                           \
  X(kOutageErrors, "", "outage_errors", "")                                                             \
  X(kBadRequests, "sim_bad_requests_total", "bad_requests", "Requests answered 400 (bad JSON, bad fault header)")

enum class Counter : std::size_t {
#define SLUICE_SIM_ENUM(e, p, j, h) e,
  SLUICE_SIM_COUNTERS(SLUICE_SIM_ENUM)
#undef SLUICE_SIM_ENUM
      kCount
};

struct Gauges {
  std::string_view model;
  std::string_view phase;
  std::size_t running = 0;
  std::size_t waiting = 0;
  std::size_t slots = 0;
  double kv_usage = 0;  // 0..1
  uint64_t kv_blocks = 0;
  uint64_t uptime_ms = 0;
};

class Stats {
 public:
  void inc(Counter c, uint64_t n = 1) {
    counters_[static_cast<std::size_t>(c)].fetch_add(n, std::memory_order_relaxed);
  }
  uint64_t get(Counter c) const {
    return counters_[static_cast<std::size_t>(c)].load(std::memory_order_relaxed);
  }
  void inc_status(unsigned status) {
    if (status >= 400 && status < 600) {
      errors_[status - 400].fetch_add(1, std::memory_order_relaxed);
    }
  }
  uint64_t status_count(unsigned status) const {
    return status >= 400 && status < 600 ? errors_[status - 400].load(std::memory_order_relaxed) : 0;
  }
  // Tokens held by running requests (kv cache usage estimate).
  std::atomic<int64_t> active_kv_tokens{0};

  std::string prometheus(const Gauges& g) const;
  std::string json(const Gauges& g) const;

 private:
  std::array<std::atomic<uint64_t>, static_cast<std::size_t>(Counter::kCount)> counters_{};
  std::array<std::atomic<uint64_t>, 200> errors_{};
};

}  // namespace sluice::sim
