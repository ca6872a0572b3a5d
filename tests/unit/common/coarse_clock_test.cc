// CoarseClock and CoarseWallClock read steady_clock's and system_clock's timelines, at most a few kernel
// ticks behind and never ahead.
#include "common/coarse_clock.h"

#include <gtest/gtest.h>

#include <thread>

namespace sluice {
namespace {

using namespace std::chrono_literals;

template <class Coarse, class Precise>
void expect_on_timeline() {
  for (int i = 0; i < 5; ++i) {
    const auto before = Precise::now();
    const auto coarse = Coarse::now();
    const auto after = Precise::now();
    EXPECT_LE(coarse, after) << "ahead of the precise clock";
    EXPECT_GE(coarse, before - 50ms) << "behind the precise clock by " << (before - coarse) / 1us << " us";
    std::this_thread::sleep_for(3ms);
  }
  const auto first = Coarse::now();
  std::this_thread::sleep_for(30ms);
  EXPECT_GE(Coarse::now() - first, 20ms) << "it advances";
}

TEST(CoarseClock, ReadsTheSteadyClockTimelineAtTickResolution) {
  expect_on_timeline<CoarseClock, std::chrono::steady_clock>();
}

TEST(CoarseWallClock, ReadsTheSystemClockTimelineAtTickResolution) {
  expect_on_timeline<CoarseWallClock, std::chrono::system_clock>();
}

}  // namespace
}  // namespace sluice
