#pragma once
// Drives the load on one thread: closed loop (N workers, each sends its next request when the previous one
// ends) or open loop (Poisson arrivals; a request's clock starts at its scheduled time whether or not a
// connection is free, so queueing in the generator shows up in the latency: no coordinated omission).
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "bench/client.h"
#include "bench/options.h"
#include "bench/recorder.h"

namespace sluice::bench {

class Runner {
 public:
  // requests[c][t][p]: the complete HTTP request of mix class c (one class without --mix) for target t and
  // prompt p. `by_class` (one per class, or empty) also records each result under its class.
  using Requests = std::vector<std::vector<std::vector<std::string>>>;
  Runner(const BenchConfig& config, std::vector<std::unique_ptr<TargetPool>>& pools, const Requests& requests,
         Recorder& recorder, std::vector<Recorder>& by_class, bool progress);

  // Spawns the load on the pools' executor; the caller runs the io_context until it returns.
  void start(net::any_io_executor ex);
  std::uint64_t started() const { return next_; }
  std::uint64_t in_flight() const { return in_flight_; }

 private:
  net::awaitable<void> closed_worker();
  net::awaitable<void> open_dispatcher();
  net::awaitable<void> one(std::uint64_t index, Clock::time_point start);
  net::awaitable<void> progress();
  bool may_start(Clock::time_point t) const;
  void print_progress(bool final);

  const BenchConfig& config_;
  std::vector<std::unique_ptr<TargetPool>>& pools_;
  const Requests& requests_;
  Recorder& recorder_;
  std::vector<Recorder>& by_class_;
  bool show_progress_;
  Clock::time_point start_;
  Clock::time_point end_;  // no request starts at or after this (duration bound)
  std::uint64_t next_ = 0;
  std::uint64_t in_flight_ = 0;
  unsigned workers_left_ = 0;
  bool dispatching_ = true;
};

}  // namespace sluice::bench
