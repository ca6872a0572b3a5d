#include "sim/capacity.h"

#include <gtest/gtest.h>

namespace sluice::sim {
namespace {

struct FakeClock {
  std::chrono::steady_clock::time_point now{};
  Clock fn() {
    return [this] { return now; };
  }
};

std::shared_ptr<Waiter> waiter(std::vector<int>& log, int id) {
  auto w = std::make_shared<Waiter>();
  w->on_grant = [&log, id] { log.push_back(id); };
  return w;
}

TEST(SimCapacity, GrantsFreeSlotsThenQueuesFifo) {
  FakeClock clock;
  Capacity c{2, clock.fn()};
  EXPECT_TRUE(c.try_acquire());
  EXPECT_TRUE(c.try_acquire());
  EXPECT_FALSE(c.try_acquire());
  std::vector<int> log;
  auto a = waiter(log, 1);
  auto b = waiter(log, 2);
  c.enqueue(a);
  c.enqueue(b);
  EXPECT_EQ(c.waiting(), 2u);
  EXPECT_EQ(c.running(), 2u);
  c.release();
  EXPECT_EQ(log, std::vector<int>{1});
  EXPECT_EQ(c.running(), 2u);
  EXPECT_EQ(c.waiting(), 1u);
  c.release();
  EXPECT_EQ(log, (std::vector<int>{1, 2}));
  EXPECT_EQ(c.waiting(), 0u);
}

TEST(SimCapacity, TryAcquireRespectsQueueOrder) {
  Capacity c{1};
  ASSERT_TRUE(c.try_acquire());
  std::vector<int> log;
  auto a = waiter(log, 1);
  c.enqueue(a);
  c.release();  // goes to the queued waiter, not to a newcomer
  EXPECT_EQ(log, std::vector<int>{1});
  EXPECT_FALSE(c.try_acquire());
}

TEST(SimCapacity, CancelRemovesQueuedWaiterOrReportsGrant) {
  Capacity c{1};
  ASSERT_TRUE(c.try_acquire());
  std::vector<int> log;
  auto a = waiter(log, 1);
  auto b = waiter(log, 2);
  c.enqueue(a);
  c.enqueue(b);
  EXPECT_TRUE(c.cancel(a));  // still queued: removed
  c.release();
  EXPECT_EQ(log, std::vector<int>{2});
  EXPECT_FALSE(c.cancel(b));  // already granted: caller owns the slot
  c.release();
  EXPECT_EQ(c.running(), 0u);
}

TEST(SimCapacity, GrowingSlotsGrantsWaiters) {
  Capacity c{0};
  std::vector<int> log;
  auto a = waiter(log, 1);
  auto b = waiter(log, 2);
  c.enqueue(a);
  c.enqueue(b);
  EXPECT_TRUE(log.empty());
  c.set_slots(1);
  EXPECT_EQ(log, std::vector<int>{1});
  c.set_slots(5);
  EXPECT_EQ(log, (std::vector<int>{1, 2}));
  EXPECT_EQ(c.running(), 2u);
}

TEST(SimCapacity, OldestWaitUsesInjectedClock) {
  FakeClock clock;
  Capacity c{0, clock.fn()};
  EXPECT_EQ(c.oldest_wait().count(), 0);
  std::vector<int> log;
  auto a = waiter(log, 1);
  c.enqueue(a);
  clock.now += std::chrono::milliseconds(1500);
  auto b = waiter(log, 2);
  c.enqueue(b);
  clock.now += std::chrono::milliseconds(500);
  EXPECT_EQ(c.oldest_wait().count(), 2000);
}

TEST(SimCapacity, EnqueueWithFreeSlotGrantsAtOnce) {
  Capacity c{1};
  std::vector<int> log;
  auto a = waiter(log, 1);
  c.enqueue(a);
  EXPECT_EQ(log, std::vector<int>{1});
  EXPECT_EQ(c.running(), 1u);
}

}  // namespace
}  // namespace sluice::sim
