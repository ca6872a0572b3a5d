#include "bench/arrivals.h"

#include <cmath>

namespace sluice::bench {

PoissonArrivals::PoissonArrivals(double rate_per_second, std::uint64_t seed)
    : mean_gap_ns_(1e9 / rate_per_second), rng_(seed) {}

std::chrono::nanoseconds PoissonArrivals::next() {
  // Our own inverse-CDF draw (not std::exponential_distribution) so the schedule is the same on every
  // standard library. u in (0, 1]: 53 random bits, never 0.
  const double u = (static_cast<double>(rng_() >> 11) + 1.0) * 0x1.0p-53;
  t_ns_ += -std::log(u) * mean_gap_ns_;
  return std::chrono::nanoseconds(static_cast<std::int64_t>(t_ns_));
}

}  // namespace sluice::bench
