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
