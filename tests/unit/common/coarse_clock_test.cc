// CoarseClock reads steady_clock's timeline, at most a few kernel ticks behind it and never ahead.
#include "common/coarse_clock.h"

#include <gtest/gtest.h>

#include <thread>

namespace sluice {
namespace {

using namespace std::chrono_literals;

TEST(CoarseClock, ReadsTheSteadyClockTimelineAtTickResolution) {
  for (int i = 0; i < 5; ++i) {
    const auto before = std::chrono::steady_clock::now();
    const auto coarse = CoarseClock::now();
    const auto after = std::chrono::steady_clock::now();
    EXPECT_LE(coarse, after) << "ahead of steady_clock";
    EXPECT_GE(coarse, before - 50ms) << "behind steady_clock by " << (before - coarse) / 1us << " us";
    std::this_thread::sleep_for(3ms);
  }
  const auto first = CoarseClock::now();
  std::this_thread::sleep_for(30ms);
  EXPECT_GE(CoarseClock::now() - first, 20ms) << "it advances";
}

}  // namespace
}  // namespace sluice
