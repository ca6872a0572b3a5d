#pragma once
// steady_clock's and system_clock's timelines read at the kernel tick's resolution (1-4 ms). A plain read
// costs ~30 ns on a VM's paravirtual clock and a proxied request took ~10 of them; a coarse one is a vDSO
// load (~6 ns). For ages, deadlines and timestamps counted in seconds or milliseconds, never for latencies.
#include <time.h>

#include <chrono>

namespace sluice {

template <class Clock, clockid_t kId>
struct CoarseOf {
  static typename Clock::time_point now() noexcept {
    timespec ts;
    ::clock_gettime(kId, &ts);
    return typename Clock::time_point(std::chrono::duration_cast<typename Clock::duration>(
        std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec)));
  }
};

using CoarseClock = CoarseOf<std::chrono::steady_clock, CLOCK_MONOTONIC_COARSE>;
using CoarseWallClock = CoarseOf<std::chrono::system_clock, CLOCK_REALTIME_COARSE>;  // usage rows, prices

}  // namespace sluice
