#pragma once
// steady_clock's timeline (CLOCK_MONOTONIC) read at the kernel tick's resolution (1-4 ms). A plain read costs
// ~30 ns on a VM's paravirtual clock and a proxied request takes ~10 of them; this one is a vDSO load (~6
// ns). For ages and deadlines counted in seconds, never for latencies.
#include <time.h>

#include <chrono>

namespace sluice {

struct CoarseClock {
  static std::chrono::steady_clock::time_point now() noexcept {
    timespec ts;
    ::clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return std::chrono::steady_clock::time_point(
        std::chrono::duration_cast<std::chrono::steady_clock::duration>(
            std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec)));
  }
};

}  // namespace sluice
