#include "admission/class_queue.h"

#include <gtest/gtest.h>

#include <map>

namespace sluice::admission {
namespace {

using config::QueuePolicy;

TEST(ClassQueue, StrictServesHigherClassesFirstFifoWithin) {
  ClassQueue<int> q(QueuePolicy::kStrict, {8, 4, 1});
  q.push(Priority::kLow, 1);
  q.push(Priority::kMedium, 2);
  q.push(Priority::kLow, 3);
  q.push(Priority::kHigh, 4);
  q.push(Priority::kHigh, 5);
  std::vector<int> order;
  while (auto v = q.pop()) {
    order.push_back(*v);
  }
  EXPECT_EQ(order, (std::vector<int>{4, 5, 2, 1, 3}));
}

TEST(ClassQueue, WeightedSharesDequeuesByWeight) {
  ClassQueue<int> q(QueuePolicy::kWeighted, {3, 0, 1});
  for (int i = 0; i < 400; ++i) {
    q.push(Priority::kHigh, 1000 + i);
    q.push(Priority::kLow, i);
  }
  int high = 0;
  int last_low = -1;
  for (int i = 0; i < 400; ++i) {
    int v = *q.pop();
    if (v >= 1000) {
      ++high;
    } else {
      EXPECT_EQ(v, last_low + 1);  // FIFO within the class
      last_low = v;
    }
  }
  EXPECT_NEAR(high, 300, 2);
}

TEST(ClassQueue, IdleClassDoesNotBankCredit) {
  ClassQueue<int> q(QueuePolicy::kWeighted, {1, 1, 1});
  for (int i = 0; i < 100; ++i) {
    q.push(Priority::kLow, i);
    (void)q.pop();
  }
  for (int i = 0; i < 10; ++i) {
    q.push(Priority::kLow, i);
    q.push(Priority::kHigh, 100 + i);
  }
  int high_in_first_10 = 0;
  for (int i = 0; i < 10; ++i) {
    high_in_first_10 += *q.pop() >= 100 ? 1 : 0;
  }
  EXPECT_GE(high_in_first_10, 4);
  EXPECT_LE(high_in_first_10, 6);
}

TEST(ClassQueue, RemoveAndAhead) {
  ClassQueue<int> q(QueuePolicy::kStrict, {1, 1, 1});
  q.push(Priority::kHigh, 1);
  q.push(Priority::kMedium, 2);
  q.push(Priority::kLow, 3);
  EXPECT_EQ(q.ahead(Priority::kHigh), 1u);
  EXPECT_EQ(q.ahead(Priority::kLow), 3u);
  EXPECT_TRUE(q.remove(Priority::kMedium, 2));
  EXPECT_FALSE(q.remove(Priority::kMedium, 2));
  EXPECT_EQ(q.size(), 2u);
  EXPECT_EQ(*q.pop(), 1);
  EXPECT_EQ(*q.pop(), 3);
  EXPECT_TRUE(q.empty());
}

TEST(Codel, OverloadedOnlyWhileMinimumDelayStaysAboveTarget) {
  CodelDetector c;
  constexpr std::int64_t ms = 1'000'000;
  c.configure(5 * ms, 100 * ms);
  std::int64_t t = 1000 * ms;
  EXPECT_FALSE(c.overloaded(t));
  for (int i = 0; i < 10; ++i) {
    c.on_dequeue(20 * ms, t + i * 10 * ms);
  }
  EXPECT_TRUE(c.overloaded(t + 101 * ms));
  // One fast dequeue in the next interval clears it.
  c.on_dequeue(20 * ms, t + 150 * ms);
  c.on_dequeue(1 * ms, t + 160 * ms);
  EXPECT_FALSE(c.overloaded(t + 205 * ms));
  // An interval without dequeues is not overload.
  EXPECT_FALSE(c.overloaded(t + 400 * ms));
}

}  // namespace
}  // namespace sluice::admission
