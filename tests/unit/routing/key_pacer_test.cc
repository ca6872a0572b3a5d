#include "routing/key_pacer.h"

#include <gtest/gtest.h>

namespace sluice::routing {
namespace {

using std::chrono::milliseconds;
using Clock = KeyPacer::Clock;

RateSignals window(std::int64_t limit, std::int64_t remaining, milliseconds reset) {
  RateSignals s;
  s.limit_requests = limit;
  s.remaining_requests = remaining;
  s.reset_requests = reset;
  return s;
}

TEST(KeyPacer, UnknownLimitsSpreadEvenly) {
  KeyPacer p{"u", {"A", "B"}, true};
  auto t = Clock::time_point{} + std::chrono::hours(1);
  auto a = p.pick(t);
  auto b = p.pick(t);
  ASSERT_TRUE(a.key && b.key);
  EXPECT_NE(*a.key, *b.key);  // the least-loaded key wins while nothing is known
}

TEST(KeyPacer, PrefersTheKeyWithHeadroomAndNeverOverbooks) {
  KeyPacer p{"u", {"small", "big"}, true};
  auto t = Clock::time_point{} + std::chrono::hours(1);
  // Learn both windows: small has 2 left, big has 5 left, for the next 10 s.
  auto k0 = p.pick(t).key.value();
  p.release(k0, 200, window(k0 == 0 ? 4 : 10, k0 == 0 ? 2 : 5, milliseconds(10'000)), t);
  auto k1 = p.pick(t).key.value();
  p.release(k1, 200, window(k1 == 0 ? 4 : 10, k1 == 0 ? 2 : 5, milliseconds(10'000)), t);
  ASSERT_NE(k0, k1);
  // 7 requests in flight at once fit exactly (2 + 5); the 8th must not be sent.
  int on_small = 0;
  for (int i = 0; i < 7; ++i) {
    auto c = p.pick(t);
    ASSERT_TRUE(c.key) << i;
    on_small += *c.key == 0;
  }
  EXPECT_EQ(on_small, 2);
  auto none = p.pick(t);
  EXPECT_FALSE(none.key);
  EXPECT_EQ(none.ready_at, t + milliseconds(10'000));
  EXPECT_FALSE(p.has_headroom(t));
  // After the reset the known limits apply again.
  EXPECT_TRUE(p.has_headroom(t + milliseconds(10'000)));
}

TEST(KeyPacer, RateLimitedKeyIsSkippedUntilRetryAfter) {
  KeyPacer p{"u", {"A", "B"}, true};
  auto t = Clock::time_point{} + std::chrono::hours(1);
  auto k = p.pick(t).key.value();
  RateSignals s;
  s.retry_after = milliseconds(2000);
  EXPECT_NE(p.release(k, 429, s, t), "");
  for (int i = 0; i < 5; ++i) {
    auto c = p.pick(t + milliseconds(100));
    ASSERT_TRUE(c.key);
    EXPECT_NE(*c.key, k);
    p.release(*c.key, 200, {}, t);
  }
  bool used_again = false;
  for (int i = 0; i < 4; ++i) {
    auto c = p.pick(t + milliseconds(2000));
    used_again = used_again || *c.key == k;
    p.release(*c.key, 200, {}, t);
  }
  EXPECT_TRUE(used_again);
}

TEST(KeyPacer, BrokeKeyIsDisabledThenProbedAgain) {
  KeyPacer p{"u", {"A", "B"}, true};
  auto t = Clock::time_point{} + std::chrono::hours(1);
  auto k = p.pick(t).key.value();
  EXPECT_NE(p.release(k, 402, {}, t).find("402"), std::string::npos);
  EXPECT_TRUE(p.view(k, t).disabled);
  for (int i = 0; i < 5; ++i) {
    auto c = p.pick(t + milliseconds(500));
    EXPECT_NE(*c.key, k);
    p.release(*c.key, 200, {}, t);
  }
  auto later = t + KeyPacer::kDisableFor;
  EXPECT_FALSE(p.view(k, later).disabled);
  EXPECT_EQ(p.release(k, 200, {}, later), "accepted again");
}

// One refusal takes a key out for kFirstDisable; each one in a row doubles it up to kDisableFor; a success
// resets the streak. refused() needs every key refused kConfirmedRefusals times in a row.
TEST(KeyPacer, RefusalsInARowDoubleTheDisableAndConfirmARefusal) {
  KeyPacer p{"u", {"A"}, true};
  auto t = Clock::time_point{} + std::chrono::hours(1);
  p.release(0, 401, {}, t);
  EXPECT_TRUE(p.view(0, t + KeyPacer::kFirstDisable - milliseconds(1)).disabled);
  EXPECT_FALSE(p.view(0, t + KeyPacer::kFirstDisable).disabled);
  EXPECT_FALSE(p.refused(t)) << "one refusal is a hiccup, not a verdict";
  p.pick_anyway(t);  // one more request goes out while the key is out (sent anyway)
  p.release(0, 401, {}, t + milliseconds(10));  // in flight when the first came back: not a probe
  EXPECT_FALSE(p.view(0, t + KeyPacer::kFirstDisable).disabled) << "only a probe doubles the wait";
  EXPECT_TRUE(p.refused(t + milliseconds(10))) << "two refusals since the last success, none still out";
  t += KeyPacer::kFirstDisable;
  p.release(0, 401, {}, t);  // a probe: the wait doubles
  EXPECT_TRUE(p.view(0, t + 2 * KeyPacer::kFirstDisable - milliseconds(1)).disabled);
  EXPECT_FALSE(p.view(0, t + 2 * KeyPacer::kFirstDisable).disabled);
  EXPECT_TRUE(p.refused(t));
  for (int i = 0; i < 12; ++i) {
    t += KeyPacer::kDisableFor;
    p.release(0, 402, {}, t);
  }
  EXPECT_TRUE(p.view(0, t + KeyPacer::kDisableFor - milliseconds(1)).disabled);
  EXPECT_FALSE(p.view(0, t + KeyPacer::kDisableFor).disabled) << "capped at kDisableFor";
  t += KeyPacer::kDisableFor;
  EXPECT_FALSE(p.refused(t)) << "out of its disable: worth a probe";
  p.release(0, 200, {}, t);
  p.release(0, 402, {}, t);
  EXPECT_FALSE(p.refused(t)) << "a success in between starts the streak again";
  EXPECT_FALSE(p.view(0, t + KeyPacer::kFirstDisable).disabled);
}

// A burst's fast refusals, while most of its requests to the key are still out, do not confirm a refusal.
TEST(KeyPacer, RefusalsWhileMoreRequestsAreOutAreNotAVerdict) {
  KeyPacer p{"u", {"A"}, true};
  auto t = Clock::time_point{} + std::chrono::hours(1);
  for (int i = 0; i < 10; ++i) {
    p.pick_anyway(t);
  }
  for (int i = 0; i < 3; ++i) {
    p.release(0, 401, {}, t);
  }
  EXPECT_FALSE(p.refused(t)) << "3 refusals, 7 answers still to come";
  for (int i = 0; i < 3; ++i) {
    p.release(0, 401, {}, t);
  }
  EXPECT_TRUE(p.refused(t)) << "6 refusals, 4 answers still to come";
}

TEST(KeyPacer, AllKeysBrokeStillSendsWhenForced) {
  KeyPacer p{"u", {"A"}, true};
  auto t = Clock::time_point{} + std::chrono::hours(1);
  p.release(p.pick(t).key.value(), 402, {}, t);
  auto c = p.pick(t);
  EXPECT_FALSE(c.key);
  EXPECT_EQ(c.ready_at, KeyPacer::Clock::time_point::max());  // nothing worth waiting for
  EXPECT_EQ(p.pick_anyway(t), 0u);
  EXPECT_EQ(p.view(0, t).pending, 1u);
}

TEST(KeyPacer, WithoutPacingItIsPlainRoundRobin) {
  KeyPacer p{"u", {"A", "B"}, false};
  auto t = Clock::time_point{} + std::chrono::hours(1);
  p.release(0, 402, {}, t);  // ignored for choosing
  EXPECT_EQ(p.pick(t).key, 0u);
  EXPECT_EQ(p.pick(t).key, 1u);
  EXPECT_EQ(p.pick(t).key, 0u);
}

TEST(KeyPacer, ReleaseWithoutAnswerOnlyFreesTheReservation) {
  KeyPacer p{"u", {"A"}, true};
  auto t = Clock::time_point{} + std::chrono::hours(1);
  auto k = p.pick(t).key.value();
  p.release(k, 200, window(1, 1, milliseconds(5000)), t);  // 1 left
  k = p.pick(t).key.value();
  EXPECT_FALSE(p.pick(t).key);  // the one left is reserved
  p.release(k, 0, {}, t);       // connect failed: nothing was spent
  EXPECT_TRUE(p.pick(t).key);
}

}  // namespace
}  // namespace sluice::routing
