#pragma once
// Latency and length distributions for the simulator, described the way operators quote them: p50 and p99.
#include <chrono>
#include <cstdint>
#include <random>

namespace sluice::sim {

// SplitMix64: tiny, fast and identical on every platform, so a seed replays the same run everywhere
// (std:: distributions are implementation-defined).
class Rng {
 public:
  explicit Rng(uint64_t seed = 1) : state_(seed) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // Uniform in [0, 1).
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  // Standard normal (Box-Muller; one value per call keeps the stream simple to replay).
  double normal();

 private:
  uint64_t state_;
};

// Lognormal fitted to two quantiles: mu = ln(p50), sigma = (ln(p99) - ln(p50)) / z(0.99).
// p50 == 0 means "always zero" (the zero-latency benchmark setting); p99 < p50 is treated as p99 == p50.
class LogNormal {
 public:
  LogNormal() = default;
  LogNormal(double p50, double p99);
  double sample(Rng& rng) const;
  double p50() const { return p50_; }
  double p99() const { return p99_; }
  bool zero() const { return p50_ <= 0; }

 private:
  double p50_ = 0;
  double p99_ = 0;
  double mu_ = 0;
  double sigma_ = 0;
};

// A lognormal over durations in milliseconds.
struct LatencyDist {
  LogNormal dist;
  std::chrono::microseconds sample(Rng& rng) const {
    return std::chrono::microseconds(static_cast<int64_t>(dist.sample(rng) * 1000.0));
  }
  bool zero() const { return dist.zero(); }
};

// Mixes several values into one seed (for per-request determinism: seed x request hash x counter).
uint64_t mix_seed(uint64_t a, uint64_t b);

}  // namespace sluice::sim
