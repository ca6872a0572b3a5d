#include <gtest/gtest.h>

#include "routing/router.h"

namespace sluice::routing {
namespace {

TEST(HostState, FastFailuresRaiseTheLatencyEstimate) {
  config::Upstream up;
  up.name = "u";
  HostState h{up};
  auto t = Clock::now();
  h.record(true, 100.0, t);
  EXPECT_DOUBLE_EQ(h.load(1).ttft_ewma_ms, 100);
  h.record(false, std::nullopt, t);  // a 503 in 1 ms: no first token
  EXPECT_DOUBLE_EQ(h.load(1).ttft_ewma_ms, 250) << "penalty: at least 250 ms";
  h.record(false, std::nullopt, t);
  EXPECT_DOUBLE_EQ(h.load(1).ttft_ewma_ms, 500) << "doubles while failures continue";
  for (int i = 0; i < 20; ++i) {
    h.record(false, std::nullopt, t);
  }
  EXPECT_DOUBLE_EQ(h.load(1).ttft_ewma_ms, 30'000) << "capped";
}

TEST(HostState, SlowStartRampsAfterReturn) {
  config::Upstream up;
  up.slow_start = std::chrono::seconds(10);
  HostState h{up};
  auto t = Clock::now();
  EXPECT_DOUBLE_EQ(h.weight_factor(t), 1.0) << "never ejected: full weight";
  h.mark_returned(t);
  EXPECT_NEAR(h.weight_factor(t), 0.1, 1e-9);
  EXPECT_NEAR(h.weight_factor(t + std::chrono::seconds(5)), 0.55, 1e-3);
  EXPECT_DOUBLE_EQ(h.weight_factor(t + std::chrono::seconds(10)), 1.0);
}

// Ejection fits the fault: a run of failures ejects a host that does clearly worse than its peers, not one that
// shares the group's fault rate.
TEST(HostState, ARunOfFailuresEjectsOnlyAHostWorseThanItsPeers) {
  config::Upstream up;
  up.outlier_consecutive_failures = 5;
  auto t = Clock::now();
  HostState shared{up};
  for (int i = 0; i < 27; ++i) {
    shared.record(i % 5 != 0, 100.0, t);  // 80 % success, like its peers
  }
  bool ejected = false;
  for (int i = 0; i < 5; ++i) {
    ejected = shared.record(false, std::nullopt, t, 0.8) || ejected;
  }
  EXPECT_FALSE(ejected) << "five in a row at a 20 % fault rate every host has";
  EXPECT_TRUE(shared.available(t));

  HostState down{up};
  for (int i = 0; i < 4; ++i) {
    EXPECT_FALSE(down.record(false, std::nullopt, t, 0.8));
  }
  EXPECT_TRUE(down.record(false, std::nullopt, t, 0.8)) << "a host that fails while its peers succeed";
  EXPECT_FALSE(down.available(t));

  HostState alone{up};
  for (int i = 0; i < 4; ++i) {
    alone.record(false, std::nullopt, t);
  }
  EXPECT_TRUE(alone.record(false, std::nullopt, t)) << "no peers to compare with: the plain consecutive rule";
}

TEST(HostState, RecentSuccessNeedsEightAttemptsAndKeepsThirtyTwo) {
  config::Upstream up;
  up.outlier_consecutive_failures = 1000;
  HostState h{up};
  auto t = Clock::now();
  for (int i = 0; i < 7; ++i) {
    h.record(true, 10.0, t);
  }
  EXPECT_FALSE(h.recent_success());
  h.record(false, std::nullopt, t);
  EXPECT_DOUBLE_EQ(*h.recent_success(), 7.0 / 8.0);
  for (int i = 0; i < 40; ++i) {
    h.record(false, std::nullopt, t);
  }
  EXPECT_DOUBLE_EQ(*h.recent_success(), 0.0);
}

}  // namespace
}  // namespace sluice::routing

namespace sluice::routing {
namespace {

TEST(HostState, FailingHostLosesP2CDespiteLookingIdle) {
  config::Upstream up;
  HostState failing{up}, busy{up};
  auto t = Clock::now();
  for (int i = 0; i < 30; ++i) {
    failing.record(i % 10 == 0, i % 10 == 0 ? std::optional<double>(300) : std::nullopt, t);  // 90 % fast 503s
    busy.record(true, 800.0, t);
  }
  for (int i = 0; i < 20; ++i) {
    busy.attempt_started();  // a healthy host with a queue
  }
  std::vector<HostLoad> loads{failing.load(1), busy.load(1)};
  EXPECT_LT(loads[0].success_rate, 0.3);
  EXPECT_GT(loads[1].success_rate, 0.99);
  std::vector<std::size_t> cand{0, 1};
  std::mt19937_64 rng(1);
  for (auto kind : {BalancerKind::kPeakEwma, BalancerKind::kLeastRequest}) {
    Balancer b{kind};
    EXPECT_EQ(b.pick(cand, loads, rng), 1u) << to_string(kind);
  }
}

}  // namespace
}  // namespace sluice::routing
