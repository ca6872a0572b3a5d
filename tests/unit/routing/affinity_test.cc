#include "routing/affinity.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace sluice::routing {
namespace {

TEST(PrefixAffinity, KeyIgnoresWhatPrecedesThePrompt) {
  const std::string a = R"({"model":"x","stream":true,"messages":[{"role":"system","content":"long shared prompt"}]})";
  const std::string b = R"({"model":"y","messages":[{"role":"system","content":"long shared prompt"}],"n":1})";
  EXPECT_EQ(prefix_key(a, 60), prefix_key(b, 60));
  EXPECT_NE(prefix_key(a, 40), 0u);
  EXPECT_EQ(prefix_key(R"({"model":"x"})", 40), 0u);
  EXPECT_EQ(prefix_key(a, 0), 0u);
  const std::string c = R"({"messages":[{"role":"system","content":"another prompt"}]})";
  EXPECT_NE(prefix_key(a, 60), prefix_key(c, 60));
}

TEST(PrefixAffinity, SameKeySameHostAndKeysSpread) {
  std::vector<HostLoad> hosts(4);
  std::vector<std::size_t> cand{0, 1, 2, 3};
  std::map<std::size_t, int> spread;
  for (std::uint64_t k = 1; k <= 4000; ++k) {
    auto a = affinity_pick(cand, hosts, k * 7919, 2.0);
    ASSERT_TRUE(a);
    EXPECT_EQ(a, affinity_pick(cand, hosts, k * 7919, 2.0));
    spread[*a]++;
  }
  for (auto& [h, n] : spread) {
    EXPECT_NEAR(n, 1000, 150) << "host " << h;
  }
}

TEST(PrefixAffinity, LosingAHostMovesOnlyItsKeys) {
  std::vector<HostLoad> hosts(4);
  std::vector<std::size_t> all{0, 1, 2, 3};
  std::vector<std::size_t> without2{0, 1, 3};
  int moved = 0;
  for (std::uint64_t k = 1; k <= 2000; ++k) {
    auto before = *affinity_pick(all, hosts, k * 104729, 2.0);
    auto after = *affinity_pick(without2, hosts, k * 104729, 2.0);
    if (before != 2) {
      EXPECT_EQ(before, after);
    } else {
      ++moved;
    }
  }
  EXPECT_GT(moved, 300);
}

TEST(PrefixAffinity, OverloadedHostIsSkipped) {
  std::vector<HostLoad> hosts(3);
  std::vector<std::size_t> cand{0, 1, 2};
  const std::uint64_t key = 12345;
  std::size_t home = *affinity_pick(cand, hosts, key, 2.0);
  hosts[home].in_flight = 30;  // mean 10: 30 > 2 × 10 + 1
  EXPECT_FALSE(affinity_pick(cand, hosts, key, 2.0));
  hosts[home].in_flight = 3;  // 3 ≤ 2 × 1 + 1
  EXPECT_EQ(affinity_pick(cand, hosts, key, 2.0), home);
}

}  // namespace
}  // namespace sluice::routing
