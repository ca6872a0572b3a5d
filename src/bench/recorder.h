#pragma once
// Accumulates per-request results: counts by outcome, latency histograms (µs) and a per-second timeline.
// Single-threaded (the load generator runs on one thread); no per-request storage, so memory stays flat
// however long the run.
#include <array>
#include <chrono>
#include <cstdint>
#include <vector>

#include "bench/client.h"
#include "bench/histogram.h"
#include "bench/outcome.h"

namespace sluice::bench {

struct TimeBucket {
  std::uint64_t completed = 0;
  std::uint64_t ok = 0;
  std::uint64_t tokens = 0;  // completion tokens of successful requests
};

// Sums over successful streams that reported usage: what `--engine-out` derives the engine's prefill and
// decode rates from.
struct EngineSums {
  std::uint64_t requests = 0;
  double prompt_tokens = 0;
  double cached_prompt_tokens = 0;
  double completion_tokens = 0;
  double ttft_s = 0;    // start to first token
  double decode_s = 0;  // first token to the end
  double e2e_s = 0;
};

class Recorder {
 public:
  explicit Recorder(Clock::time_point start) : start_(start) {}

  void add(const RequestResult& r);

  Clock::time_point start() const { return start_; }
  // From the start to the last completion (the run's wall time for rates).
  double elapsed_seconds() const;
  std::uint64_t completed() const { return completed_; }
  std::uint64_t ok() const { return counts_[0]; }
  std::uint64_t count(Outcome o) const { return counts_[static_cast<std::size_t>(o)]; }
  std::uint64_t ok_tokens() const { return ok_tokens_; }
  const EngineSums& engine_sums() const { return engine_; }

  // Successful requests only: a fast error must not make latency look good.
  const Histogram& e2e() const { return e2e_; }
  const Histogram& ttft() const { return ttft_; }
  const Histogram& itl() const { return itl_; }
  // Failed requests: how fast a refusal (429/503) came back.
  const Histogram& failed_e2e() const { return failed_e2e_; }
  // Every request: time from the scheduled start until it had a connection (open loop's queueing).
  const Histogram& queued() const { return queued_; }
  // Completions over time in buckets of `step` seconds (a multiple of kSliceSeconds), at most
  // `max_points` of them.
  std::vector<TimeBucket> timeline(std::size_t max_points, double& step) const;

  static constexpr double kSliceSeconds = 0.1;

 private:
  Clock::time_point start_;
  Clock::time_point last_end_{};
  std::uint64_t completed_ = 0;
  std::array<std::uint64_t, kOutcomeCount> counts_{};
  std::uint64_t ok_tokens_ = 0;
  Histogram e2e_;
  Histogram ttft_;
  Histogram itl_;
  Histogram queued_;
  Histogram failed_e2e_;
  std::vector<TimeBucket> slices_;  // kSliceSeconds each
  EngineSums engine_;
};

}  // namespace sluice::bench
