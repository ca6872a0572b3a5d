// Allowance leases with a fake clock: what a replica decides from its slice, what it asks the store for, and
// that three replicas sharing one bucket through leases admit the limit per window within 2 %.
#include "state/lease.h"

#include <gtest/gtest.h>

#include <array>
#include <random>

namespace sluice::state {
namespace {

constexpr Nanos kMs = 1'000'000;
constexpr Nanos kSec = 1000 * kMs;
constexpr Nanos kStart = 1000 * kSec;

TEST(RateLease, AsksForTheNeedPlusADemandSlice) {
  const auto p = GcraParams::make(600, std::chrono::seconds(60));
  RateLease l;
  Verdict v = l.reserve(p, 1, kStart, 4);
  ASSERT_EQ(v.outcome, Outcome::kRefill);
  EXPECT_EQ(l.ask().need, 1u);
  EXPECT_EQ(l.ask().want, 1u);  // no demand seen yet
  l.on_grant(1, 599, 100 * kMs, 0, kStart, kSec);
  EXPECT_TRUE(l.reserve(p, 1, kStart, 4).taken());
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(l.reserve(p, 1, kStart + i, 4).outcome, Outcome::kRefill);
    l.on_grant(1, 598, 200 * kMs, 0, kStart + i, kSec);
    ASSERT_TRUE(l.reserve(p, 1, kStart + i, 4).taken());
  }
  // Four used in this lease: the next ask takes a slice of the demand, capped at max_slice.
  ASSERT_EQ(l.reserve(p, 1, kStart + 10, 3).outcome, Outcome::kRefill);
  EXPECT_EQ(l.ask().need, 1u);
  EXPECT_EQ(l.ask().want, 4u);
}

TEST(RateLease, ServesFromTheSliceWithoutTheStore) {
  const auto p = GcraParams::make(100, std::chrono::seconds(1));
  RateLease l;
  ASSERT_EQ(l.reserve(p, 30, kStart, 50).outcome, Outcome::kRefill);
  l.on_grant(80, 20, 800 * kMs, 0, kStart, kSec);
  EXPECT_TRUE(l.reserve(p, 30, kStart, 50).taken());
  EXPECT_TRUE(l.reserve(p, 30, kStart, 50).taken());
  EXPECT_EQ(l.balance(), 20);
  EXPECT_EQ(l.reserve(p, 30, kStart, 50).outcome, Outcome::kRefill);
  EXPECT_EQ(l.ask().need, 10u);  // the 20 held count toward it
}

TEST(RateLease, RefusedWithoutTheStoreUntilTheBucketHasRoom) {
  const auto p = GcraParams::make(60, std::chrono::seconds(60));
  RateLease l;
  ASSERT_EQ(l.reserve(p, 1, kStart, 1).outcome, Outcome::kRefill);
  l.on_grant(0, 0, 60 * kSec, 700 * kMs, kStart, kSec);  // empty: one unit fits in 700 ms
  Verdict v = l.reserve(p, 1, kStart + 100 * kMs, 1);
  EXPECT_EQ(v.outcome, Outcome::kRefused);
  EXPECT_EQ(v.retry_after_ns, 600 * kMs);
  EXPECT_EQ(l.reserve(p, 1, kStart + 700 * kMs, 1).outcome, Outcome::kRefill);
}

TEST(RateLease, SettlesRefundsIntoTheSliceAndOwesOvercharges) {
  const auto p = GcraParams::make(10'000, std::chrono::seconds(60));
  RateLease l;
  ASSERT_EQ(l.reserve(p, 1000, kStart, 0).outcome, Outcome::kRefill);
  l.on_grant(1000, 9000, 6 * kSec, 0, kStart, kSec);
  ASSERT_TRUE(l.reserve(p, 1000, kStart, 0).taken());
  l.settle(1000, 400);  // used 400 of the 1000 reserved
  EXPECT_EQ(l.balance(), 600);
  ASSERT_TRUE(l.reserve(p, 600, kStart, 0).taken());
  l.settle(600, 900);  // used 300 more than reserved
  EXPECT_EQ(l.balance(), -300);
  ASSERT_EQ(l.reserve(p, 100, kStart, 0).outcome, Outcome::kRefill);
  EXPECT_EQ(l.ask().need, 400u);  // the debt first
}

TEST(RateLease, GivesBackWhatItDidNotUseWhenTheLeaseEnds) {
  const auto p = GcraParams::make(600, std::chrono::seconds(60));
  RateLease l;
  ASSERT_EQ(l.reserve(p, 1, kStart, 10).outcome, Outcome::kRefill);
  l.on_grant(5, 595, kSec, 0, kStart, kSec);
  ASSERT_TRUE(l.reserve(p, 1, kStart, 10).taken());
  EXPECT_EQ(l.take_expired(kStart + kSec - 1), 0);
  EXPECT_EQ(l.take_expired(kStart + kSec), 4);
  EXPECT_EQ(l.balance(), 0);
}

TEST(RateLease, TooLargeNeverAsksTheStore) {
  const auto p = GcraParams::make(100, std::chrono::seconds(60));
  RateLease l;
  EXPECT_EQ(l.reserve(p, 101, kStart, 10).outcome, Outcome::kTooLarge);
}

TEST(GcraGrant, GrantsWhatFitsWhenTheNeedFits) {
  const auto p = GcraParams::make(10, std::chrono::seconds(10));  // 1 per second, burst 10
  GcraGrant g = gcra_grant(p, 0, kStart, 1, 4);
  EXPECT_EQ(g.granted, 4u);
  EXPECT_EQ(g.remaining, 6u);
  g = gcra_grant(p, g.tat, kStart, 7, 7);
  EXPECT_EQ(g.granted, 0u);  // only 6 fit: nothing is granted
  EXPECT_EQ(g.retry_after_ns, kSec);
  Nanos tat = gcra_return(p, gcra_grant(p, 0, kStart, 10, 10).tat, kStart, 3);
  EXPECT_EQ(gcra_grant(p, tat, kStart, 3, 3).granted, 3u);
  EXPECT_EQ(gcra_return(p, kStart - 1, kStart, 5), kStart - 1);  // full stays full
  EXPECT_EQ(gcra_return(p, kStart, kStart, -2), kStart + 2 * kSec);  // owed units charged
}

TEST(LeaseSlice, IsAFractionOfTheLimitPerReplica) {
  EXPECT_EQ(lease_slice(600, 0.02, 3), 4u);
  EXPECT_EQ(lease_slice(60, 0.02, 3), 1u);
  EXPECT_EQ(lease_slice(1'000'000, 0.02, 0), 20'000u);
}

// Three replicas, each overloaded with Poisson arrivals, share one bucket of 600 per minute through leases
// (and sync every 100 ms, returning expired slices). Every window after the first admits 600 ± 2 %.
TEST(RateLease, ThreeReplicasShareALimitWithinTwoPercentPerWindow) {
  const auto p = GcraParams::make(600, std::chrono::seconds(60));
  const std::uint64_t slice = lease_slice(600, 0.02, 3);
  std::array<RateLease, 3> replicas;
  Nanos tat = 0;
  std::mt19937_64 rng(7);
  std::exponential_distribution<double> gap(15.0 / 1e9);  // 15 requests/s per replica: 4.5× the limit
  std::array<Nanos, 3> next{kStart, kStart, kStart};
  std::array<int, 6> per_window{};
  const Nanos end = kStart + 6 * 60 * kSec;
  Nanos next_sync = kStart;
  for (Nanos now = kStart; now < end; now += kMs) {
    if (now >= next_sync) {
      for (auto& r : replicas) {
        if (std::int64_t back = r.take_expired(now); back != 0) {
          tat = gcra_return(p, tat, now, back);
        }
      }
      next_sync += 100 * kMs;
    }
    for (std::size_t i = 0; i < replicas.size(); ++i) {
      while (next[i] <= now) {
        next[i] += static_cast<Nanos>(gap(rng));
        Verdict v = replicas[i].reserve(p, 1, now, slice);
        if (v.outcome == Outcome::kRefill) {
          GcraGrant g = gcra_grant(p, tat, now, replicas[i].ask().need, replicas[i].ask().want);
          tat = g.granted ? g.tat : tat;
          replicas[i].on_grant(g.granted, g.remaining, g.reset_ns, g.retry_after_ns, now, kSec);
          v = replicas[i].reserve(p, 1, now, slice);
        }
        if (v.taken()) {
          ++per_window[static_cast<std::size_t>((now - kStart) / (60 * kSec))];
        }
      }
    }
  }
  EXPECT_NEAR(per_window[0], 1200, 12);  // the full bucket plus one window of refill, as GCRA allows
  for (std::size_t w = 1; w < per_window.size(); ++w) {
    EXPECT_NEAR(per_window[w], 600, 12) << "window " << w;
  }
}

TEST(SlotLease, UsesItsAllotmentThenAsksForMore) {
  SlotLease s;
  ASSERT_EQ(s.acquire(5, kStart, 1).outcome, Outcome::kRefill);
  EXPECT_EQ(s.want(), 2u);  // one for the request, one spare
  s.on_grant(2, kStart, 100 * kMs);
  EXPECT_TRUE(s.acquire(5, kStart, 1).taken());
  EXPECT_TRUE(s.acquire(5, kStart, 1).taken());
  ASSERT_EQ(s.acquire(5, kStart, 1).outcome, Outcome::kRefill);
  EXPECT_EQ(s.want(), 4u);
  s.on_grant(2, kStart, 100 * kMs);  // the others hold the rest
  Verdict v = s.acquire(5, kStart + 10 * kMs, 1);
  EXPECT_EQ(v.outcome, Outcome::kRefused);
  EXPECT_EQ(v.retry_after_ns, 90 * kMs);
  s.release(kStart + 20 * kMs);
  EXPECT_TRUE(s.acquire(5, kStart + 20 * kMs, 1).taken());
}

TEST(SlotLease, GivesBackIdleSlotsButNeverOnesInFlight) {
  SlotLease s;
  s.acquire(10, kStart, 0);
  s.on_grant(6, kStart, 0);
  for (int i = 0; i < 6; ++i) {
    ASSERT_TRUE(s.acquire(10, kStart, 0).taken());
  }
  for (int i = 0; i < 5; ++i) {
    s.release(kStart + kMs);
  }
  EXPECT_FALSE(s.shrink_to(kStart + 50 * kMs, 100 * kMs, 0).has_value());  // not idle long enough
  ASSERT_TRUE(s.shrink_to(kStart + 200 * kMs, 100 * kMs, 0).has_value());
  EXPECT_EQ(*s.shrink_to(kStart + 200 * kMs, 100 * kMs, 0), 1u);  // one is still in flight
}

TEST(SpendLease, ReservesFromTheAllotmentAndSendsSettledSpendOnce) {
  SpendLease s;
  ASSERT_EQ(s.reserve(100, 0, kStart, 1000).outcome, Outcome::kRefill);
  EXPECT_EQ(s.need(), 100);
  EXPECT_EQ(s.want(), 1100);
  s.on_reply(true, 1100, {}, {}, kStart, 100 * kMs);
  EXPECT_TRUE(s.reserve(100, 0, kStart, 1000).outcome == Outcome::kTaken);
  for (int i = 0; i < 10; ++i) {
    ASSERT_EQ(s.reserve(100, 0, kStart, 1000).outcome, Outcome::kTaken) << i;
  }
  EXPECT_EQ(s.reserve(100, 0, kStart, 1000).outcome, Outcome::kRefill);
  s.settle(100, 40);
  s.settle(100, 70);
  EXPECT_EQ(s.held(), 900);
  EXPECT_EQ(s.floor(), 900);
  EXPECT_EQ(s.take_unsent(), 110);
  EXPECT_EQ(s.take_unsent(), 0);
}

TEST(SpendLease, RefusedUntilRetryOnceTheStoreSaysSpent) {
  SpendLease s;
  ASSERT_EQ(s.reserve(100, 0, kStart, 0).outcome, Outcome::kRefill);
  BudgetVerdict spent{false, BudgetPeriod::kDay, 1000, 1000, 5000};
  s.on_reply(false, 0, {}, spent, kStart, 100 * kMs);
  SpendVerdict v = s.reserve(100, 0, kStart + kMs, 0);
  EXPECT_EQ(v.outcome, Outcome::kRefused);
  EXPECT_EQ(v.budget.resets_at_ms, 5000);
  EXPECT_EQ(s.reserve(100, 0, kStart + 100 * kMs, 0).outcome, Outcome::kRefill);
}

}  // namespace
}  // namespace sluice::state
