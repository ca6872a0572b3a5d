#pragma once
// Open-loop send schedule: Poisson arrivals (exponential gaps) at a target rate, from a seeded generator so
// a run's schedule is replayable. Pure: no clock, offsets from the start of the run.
#include <chrono>
#include <cstdint>
#include <random>

namespace sluice::bench {

class PoissonArrivals {
 public:
  PoissonArrivals(double rate_per_second, std::uint64_t seed);

  // Offset of the next arrival from the start of the run (non-decreasing).
  std::chrono::nanoseconds next();

 private:
  double mean_gap_ns_;
  std::mt19937_64 rng_;
  double t_ns_ = 0.0;
};

}  // namespace sluice::bench
