#pragma once
// Wall-clock time as unix milliseconds, read precisely (CoarseWallClock in coarse_clock.h is the per-request
// cheap read). One helper, so the conversion is written once.
#include <chrono>
#include <cstdint>

namespace sluice {

inline std::int64_t unix_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace sluice
