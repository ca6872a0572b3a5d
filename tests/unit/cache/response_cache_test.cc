#include "cache/response_cache.h"

#include <gtest/gtest.h>

namespace sluice::cache {
namespace {

using namespace std::chrono_literals;

std::shared_ptr<const CachedAnswer> answer(std::size_t size) {
  auto a = std::make_shared<CachedAnswer>();
  a->json.assign(size, 'x');
  return a;
}

TEST(MemoryCache, TtlAndStaleWindow) {
  MemoryCache c(1 << 20, 10s, 5s, 1);
  auto t0 = CacheClock::time_point{} + 1h;
  c.put("k", answer(10), t0);
  EXPECT_TRUE(c.get("k", t0 + 9s, false).answer);
  EXPECT_FALSE(c.get("k", t0 + 11s, false).answer);  // expired: not fresh
  auto stale = c.get("k", t0 + 11s, true);
  ASSERT_TRUE(stale.answer);
  EXPECT_TRUE(stale.stale);
  EXPECT_FALSE(c.get("k", t0 + 16s, true).answer);  // past ttl + stale_ttl: gone
  EXPECT_EQ(c.entries(), 0u);
  EXPECT_EQ(c.bytes(), 0u);
}

TEST(MemoryCache, EvictsLeastRecentlyUsedWithinBudget) {
  const std::size_t entry = answer(1000)->bytes() + 1;
  MemoryCache c(entry * 3, 1h, 0s, 1);
  auto t = CacheClock::time_point{} + 1h;
  c.put("a", answer(1000), t);
  c.put("b", answer(1000), t);
  c.put("c", answer(1000), t);
  EXPECT_TRUE(c.get("a", t, false).answer);  // a is now the most recent
  c.put("d", answer(1000), t);               // evicts b
  EXPECT_FALSE(c.get("b", t, false).answer);
  EXPECT_TRUE(c.get("a", t, false).answer);
  EXPECT_TRUE(c.get("c", t, false).answer);
  EXPECT_TRUE(c.get("d", t, false).answer);
  EXPECT_EQ(c.entries(), 3u);
  EXPECT_LE(c.bytes(), entry * 3);
}

TEST(MemoryCache, TooLargeIsNotStoredAndReplaceKeepsCounts) {
  MemoryCache c(4096, 1h, 0s, 1);
  auto t = CacheClock::time_point{} + 1h;
  c.put("big", answer(5000), t);
  EXPECT_FALSE(c.get("big", t, false).answer);
  c.put("k", answer(10), t);
  c.put("k", answer(20), t);
  EXPECT_EQ(c.entries(), 1u);
  EXPECT_EQ(c.get("k", t, false).answer->json.size(), 20u);
}

}  // namespace
}  // namespace sluice::cache
