// The provider-key view replicas share (state backend): observations on the wall clock, merged when newer, and
// other replicas' requests in flight counted against headroom.
#include <gtest/gtest.h>

#include "routing/key_pacer.h"

namespace sluice::routing {
namespace {

using std::chrono::milliseconds;
using Clock = KeyPacer::Clock;

TEST(KeyPacerShared, AnObservationRoundTripsThroughItsText) {
  KeyPacer::Observation o{1'700'000'000'000, 60, 3, 1'700'000'010'000, -1, 0, 1'700'000'005'000, 0};
  const auto back = KeyPacer::Observation::decode(o.encode());
  EXPECT_EQ(back.observed_ms, o.observed_ms);
  EXPECT_EQ(back.remaining, 3);
  EXPECT_EQ(back.reset_ms, o.reset_ms);
  EXPECT_EQ(back.tokens_remaining, -1);
  EXPECT_EQ(back.blocked_ms, o.blocked_ms);
  EXPECT_EQ(KeyPacer::Observation::decode("1,2,x").observed_ms, 0);  // malformed: nothing learnt
  EXPECT_EQ(KeyPacer::Observation::decode("").observed_ms, 0);
}

TEST(KeyPacerShared, A429SeenByOneReplicaBlocksTheKeyOnAnother) {
  KeyPacer a{"u", {"K"}, true};
  KeyPacer b{"u", {"K"}, true};
  const auto t = Clock::time_point{} + std::chrono::hours(1);
  const std::int64_t unix_ms = 1'700'000'000'000;
  auto k = a.pick(t).key.value();
  RateSignals s;
  s.retry_after = milliseconds(5000);
  a.release(k, 429, s, t);
  // Replica b's clocks differ: the same wall-clock instant is another steady time there.
  const auto tb = t + std::chrono::minutes(7);
  const auto o = a.observation(0, t, unix_ms);
  EXPECT_GT(o.observed_ms, 0);
  b.merge(0, o, 0, tb, unix_ms);
  auto c = b.pick(tb);
  EXPECT_FALSE(c.key);  // blocked here too
  EXPECT_NEAR(std::chrono::duration_cast<milliseconds>(c.ready_at - tb).count(), 5000, 5);
  // An older observation never overrides a newer one.
  KeyPacer::Observation old = o;
  old.observed_ms -= 1;
  old.blocked_ms = 0;
  b.merge(0, old, 0, tb, unix_ms);
  EXPECT_FALSE(b.pick(tb).key);
}

TEST(KeyPacerShared, OtherReplicasInFlightRequestsUseUpHeadroom) {
  KeyPacer p{"u", {"K"}, true};
  const auto t = Clock::time_point{} + std::chrono::hours(1);
  RateSignals s;
  s.limit_requests = 10;
  s.remaining_requests = 4;
  s.reset_requests = milliseconds(10'000);
  p.release(p.pick(t).key.value(), 200, s, t);
  KeyPacer::Observation mine = p.observation(0, t, 1'700'000'000'000);
  p.merge(0, mine, 3, t, 1'700'000'000'000);  // three in flight on the other replicas
  EXPECT_TRUE(p.pick(t).key);                  // 4 left - 3 elsewhere = 1 here
  EXPECT_FALSE(p.pick(t).key);
}

}  // namespace
}  // namespace sluice::routing
