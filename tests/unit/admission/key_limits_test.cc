// Key checks over the state interfaces: budgets with the other limits (all or nothing), and the split into a
// synchronous fast path and a refill round for shared counters.
#include "admission/key_limits.h"

#include <gtest/gtest.h>

#include "key_policy_util.h"

#include "state/local.h"

namespace sluice::admission {
namespace {

constexpr Nanos kNow = 1'000'000'000'000;
constexpr std::int64_t kUnixMs = 1743465600000;  // 2025-04-01T00:00:00Z

config::KeyPolicy policy(std::uint64_t rpm, std::uint32_t conc, double daily_usd) {
  return admission::testing::key_policy(rpm, conc, daily_usd);
}

TEST(KeyLimits, ABudgetRefusalGivesBackTheOtherCharges) {
  KeyEntry key("tenant", policy(10, 5, 1.0), *state::local_backend());
  const RequestCost big{0, to_nano_usd(0.6)};
  {
    KeyTicket t1, t2;
    ASSERT_EQ(check_key(key, "m", big, kNow, kUnixMs, t1).rejected, LimitKind::kNone);
    ASSERT_EQ(check_key(key, "m", big, kNow, kUnixMs, t2).rejected, LimitKind::kNone);  // 0.6 < 1.0
    KeyTicket t3;
    const KeyDecision d = check_key(key, "m", big, kNow, kUnixMs, t3);
    EXPECT_EQ(d.rejected, LimitKind::kBudget);
    EXPECT_EQ(d.budget.period, BudgetPeriod::kDay);
    EXPECT_EQ(d.retry_after_ns, 86'400'000LL * 1'000'000);  // a whole day until it resets
    EXPECT_EQ(key.all.counters->concurrency->in_flight(), 2u);  // t3's slot went back
    EXPECT_EQ(d.requests.remaining, 8u);                          // and its request
    t1.settle_cost(to_nano_usd(0.1), kUnixMs, kNow);
    t2.settle_cost(std::nullopt, kUnixMs, kNow);  // unknown: the estimate stands
  }
  EXPECT_EQ(key.all.counters->concurrency->in_flight(), 0u);
  const auto v = key.spend->local_view(kUnixMs);
  EXPECT_EQ(v.day_spent, to_nano_usd(0.7));
  EXPECT_EQ(v.reserved, 0);
}

TEST(KeyLimits, AnUnsettledBudgetReservationEndsAtNoCost) {
  KeyEntry key("tenant", policy(0, 0, 1.0), *state::local_backend());
  {
    KeyTicket t;
    ASSERT_EQ(check_key(key, "m", RequestCost{0, to_nano_usd(0.9)}, kNow, kUnixMs, t).rejected, LimitKind::kNone);
    EXPECT_EQ(key.spend->local_view(kUnixMs).reserved, to_nano_usd(0.9));
  }  // answered from the cache, or the client left before the call
  EXPECT_EQ(key.spend->local_view(kUnixMs).reserved, 0);
  EXPECT_EQ(key.spend->local_view(kUnixMs).day_spent, 0);
}

// A shared counter stand-in: kRefill until the backend refilled it, then decides from what it was given.
class FakeShared : public state::RateCounter, public state::Refillable {
 public:
  state::Verdict reserve(const GcraParams& p, std::uint64_t units, Nanos) override {
    state::Verdict v;
    v.limit = p.limit;
    if (held >= units) {
      held -= units;
      return v;
    }
    v.outcome = refills_left > 0 ? state::Outcome::kRefill : state::Outcome::kRefused;
    return v;
  }
  void settle(const GcraParams&, std::uint64_t reserved, std::uint64_t actual, Nanos) override {
    held += reserved - actual;
  }
  state::Verdict peek(const GcraParams& p, Nanos) const override { return {.limit = p.limit, .remaining = held}; }
  Refillable* shared() override { return this; }
  std::uint64_t held = 0;
  int refills_left = 1;
};

class FakeBackend : public state::Backend {
 public:
  bool shared() const override { return true; }
  std::shared_ptr<state::RateCounter> rate(const std::string&, const std::string& name) override {
    if (name == "rq") {
      return requests;
    }
    return std::make_shared<state::LocalRate>();
  }
  std::shared_ptr<state::SlotCounter> slots(const std::string&, const std::string&) override {
    return std::make_shared<state::LocalSlots>();
  }
  std::shared_ptr<state::SpendCounter> spend(const std::string&) override {
    return std::make_shared<state::LocalSpend>();
  }
  net::awaitable<void> refill(std::span<state::Refillable* const> needs) override {
    ++rounds;
    for (auto* n : needs) {
      auto* f = dynamic_cast<FakeShared*>(n);
      f->held += 3;
      --f->refills_left;
    }
    co_return;
  }
  std::shared_ptr<FakeShared> requests = std::make_shared<FakeShared>();
  int rounds = 0;
};

TEST(KeyLimits, ASharedCounterWithoutAllowanceMakesTheDecisionPendingAndChargesNothing) {
  FakeBackend backend;
  KeyEntry key("tenant", policy(100, 2, 0), backend);
  KeyTicket t;
  const KeyDecision d = check_key(key, "m", RequestCost{}, kNow, kUnixMs, t);
  ASSERT_TRUE(d.pending());
  EXPECT_EQ(d.rejected, LimitKind::kNone);
  EXPECT_EQ(key.all.counters->concurrency->in_flight(), 0u);  // the slot taken before went back

  net::io_context ioc;
  KeyDecision after;
  net::co_spawn(ioc, [&]() -> net::awaitable<void> {
    after = co_await check_key_async(backend, key, "m", RequestCost{}, t);
  }, net::detached);
  ioc.run();
  EXPECT_EQ(backend.rounds, 1);
  EXPECT_FALSE(after.pending());
  EXPECT_EQ(after.rejected, LimitKind::kNone);
  EXPECT_EQ(backend.requests->held, 2u);  // three granted, one used
  EXPECT_EQ(key.all.counters->concurrency->in_flight(), 1u);
  // The next two requests come out of the slice without a refill.
  KeyTicket t2;
  EXPECT_FALSE(check_key(key, "m", RequestCost{}, kNow, kUnixMs, t2).pending());
}

}  // namespace
}  // namespace sluice::admission
