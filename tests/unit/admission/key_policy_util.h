#pragma once
// A key policy with the limits the key-limit tests vary (shared by the admission and state tests).
#include "config/admission_config.h"

namespace sluice::admission::testing {

inline config::KeyPolicy key_policy(std::uint64_t rpm, std::uint32_t max_concurrent, double daily_usd) {
  config::KeyPolicy p;
  p.limits.rpm = rpm;
  p.limits.max_concurrent = max_concurrent;
  p.budget.daily_usd = daily_usd;
  return p;
}

}  // namespace sluice::admission::testing
