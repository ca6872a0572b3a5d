#include "sim/distributions.h"

#include <algorithm>
#include <cmath>

namespace sluice::sim {

namespace {
constexpr double kZ99 = 2.326347874040841;  // standard normal quantile at 0.99
constexpr double kTwoPi = 6.283185307179586;
}  // namespace

double Rng::normal() {
  double u1 = uniform();
  double u2 = uniform();
  if (u1 < 1e-300) {
    u1 = 1e-300;
  }
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(kTwoPi * u2);
}

LogNormal::LogNormal(double p50, double p99) : p50_(p50), p99_(std::max(p50, p99)) {
  if (p50_ > 0) {
    mu_ = std::log(p50_);
    sigma_ = (std::log(p99_) - mu_) / kZ99;
  }
}

double LogNormal::sample(Rng& rng) const {
  if (p50_ <= 0) {
    return 0;
  }
  if (sigma_ <= 0) {
    return p50_;
  }
  return std::exp(mu_ + sigma_ * rng.normal());
}

uint64_t mix_seed(uint64_t a, uint64_t b) {
  Rng r{a ^ (b * 0x9e3779b97f4a7c15ULL)};
  return r.next();
}

}  // namespace sluice::sim
