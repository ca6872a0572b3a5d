#include "routing/balancer.h"

#include <gtest/gtest.h>

#include <map>
#include <vector>

#include "routing/peak_ewma.h"

namespace sluice::routing {
namespace {

std::map<std::size_t, int> histogram(Balancer& b, const std::vector<std::size_t>& cand,
                                     const std::vector<HostLoad>& hosts, int n, std::uint64_t seed = 1) {
  std::mt19937_64 rng(seed);
  std::map<std::size_t, int> h;
  for (int i = 0; i < n; ++i) {
    h[b.pick(cand, hosts, rng)]++;
  }
  return h;
}

TEST(RoutingBalancer, RoundRobinCyclesCandidates) {
  Balancer b{BalancerKind::kRoundRobin};
  std::vector<HostLoad> hosts(4);
  auto h = histogram(b, {0, 2, 3}, hosts, 300);
  EXPECT_EQ(h[0], 100);
  EXPECT_EQ(h[2], 100);
  EXPECT_EQ(h[3], 100);
  EXPECT_EQ(h.count(1), 0u);
}

TEST(RoutingBalancer, WeightedRandomFollowsWeights) {
  Balancer b{BalancerKind::kWeightedRandom};
  std::vector<HostLoad> hosts{{1, 0, 0}, {3, 0, 0}, {0, 0, 0}};
  auto h = histogram(b, {0, 1, 2}, hosts, 40000);
  EXPECT_NEAR(h[1] / double(h[0]), 3.0, 0.25);
  EXPECT_EQ(h.count(2), 0u) << "weight 0 never picked";
}

TEST(RoutingBalancer, LeastRequestAvoidsTheBusyHost) {
  Balancer b{BalancerKind::kLeastRequest};
  std::vector<HostLoad> hosts{{1, 50, 0}, {1, 0, 0}, {1, 0, 0}};
  auto h = histogram(b, {0, 1, 2}, hosts, 3000);
  EXPECT_EQ(h.count(0), 0u) << "with P2C the busiest host loses every comparison";
  EXPECT_NEAR(h[1], 1500, 200);
}

TEST(RoutingBalancer, PeakEwmaPrefersTheFastHostScaledByLoad) {
  Balancer b{BalancerKind::kPeakEwma};
  std::vector<HostLoad> hosts{{1, 0, 1000}, {1, 0, 100}};
  auto h = histogram(b, {0, 1}, hosts, 100);
  EXPECT_EQ(h[1], 100);
  hosts[1].in_flight = 20;  // 100 ms × 21 > 1000 ms × 1
  h = histogram(b, {0, 1}, hosts, 100);
  EXPECT_EQ(h[0], 100);
}

TEST(RoutingBalancer, SingleCandidateAndParse) {
  Balancer b{BalancerKind::kPeakEwma};
  std::vector<HostLoad> hosts(3);
  std::mt19937_64 rng(1);
  std::vector<std::size_t> one{2};
  EXPECT_EQ(b.pick(one, hosts, rng), 2u);
  BalancerKind k;
  ASSERT_TRUE(parse_balancer("least_request", k));
  EXPECT_EQ(k, BalancerKind::kLeastRequest);
  EXPECT_FALSE(parse_balancer("fastest", k));
}

TEST(RoutingPeakEwma, JumpsUpDecaysDown) {
  PeakEwma e{std::chrono::seconds(10)};
  std::chrono::steady_clock::time_point t{std::chrono::seconds(100)};
  e.observe(100, t);
  EXPECT_DOUBLE_EQ(e.value(), 100);
  e.observe(1000, t + std::chrono::milliseconds(1));
  EXPECT_DOUBLE_EQ(e.value(), 1000) << "peak: slower sample taken at once";
  e.observe(100, t + std::chrono::seconds(10) + std::chrono::milliseconds(1));
  EXPECT_NEAR(e.value(), 100 + 900 * std::exp(-1.0), 1e-6);
}

}  // namespace
}  // namespace sluice::routing
