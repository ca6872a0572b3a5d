// The gate across threads: a waiter parked on one io_context is woken by a release on another thread, in
// priority order; a deadline that the estimate cannot meet is refused at once.
#include "admission/group_gate.h"

#include <gtest/gtest.h>

#include <thread>

namespace sluice::admission {
namespace {

config::AdmissionGroup one_slot() {
  config::AdmissionGroup g;
  g.max_concurrent = 1;
  g.max_queue = 10;
  return g;
}

TEST(GroupGate, ReleaseOnAnotherThreadWakesWaitersInPriorityOrder) {
  auto gate = std::make_shared<GroupGate>("g", one_slot(), config::AdmissionConfig{});
  net::io_context holder_ctx;
  net::io_context waiter_ctx;
  Slot held;
  WaitHook h0;
  net::co_spawn(holder_ctx, [&]() -> net::awaitable<void> {
    auto r = co_await gate->acquire(Priority::kLow, Clock::now() + std::chrono::seconds(10), h0);
    held = std::move(r.slot);
  }, net::detached);
  holder_ctx.run();
  ASSERT_TRUE(held);
  std::vector<std::string> order;
  WaitHook h1, h2;
  auto wait = [&](Priority p, std::string name, WaitHook& h) -> net::awaitable<void> {
    auto r = co_await gate->acquire(p, Clock::now() + std::chrono::seconds(10), h);
    EXPECT_TRUE(r.slot) << name;
    order.push_back(name);
    r.slot.release();  // lets the next waiter in
  };
  net::co_spawn(waiter_ctx, wait(Priority::kLow, "low", h1), net::detached);
  net::co_spawn(waiter_ctx, wait(Priority::kHigh, "high", h2), net::detached);
  waiter_ctx.poll();  // both are parked now
  EXPECT_EQ(gate->queued(Priority::kLow), 1u);
  EXPECT_EQ(gate->queued(Priority::kHigh), 1u);
  std::thread releaser([&] { held.release(); });
  releaser.join();
  waiter_ctx.run_for(std::chrono::seconds(5));
  EXPECT_EQ(order, (std::vector<std::string>{"high", "low"}));
  EXPECT_EQ(gate->in_flight(), 0u);
}

TEST(GroupGate, DeadlineShorterThanTheEstimatedWaitIsRefusedAtOnce) {
  auto gate = std::make_shared<GroupGate>("g", one_slot(), config::AdmissionConfig{});
  net::io_context ctx;
  GateResult first;
  GateResult second;
  WaitHook h;
  net::co_spawn(ctx, [&]() -> net::awaitable<void> {
    first = co_await gate->acquire(Priority::kHigh, Clock::now() + std::chrono::seconds(10), h);
    {
      Slot teach = std::move(first.slot);  // a slot held ~50 ms teaches the gate the service time
      net::steady_timer t(co_await net::this_coro::executor, std::chrono::milliseconds(50));
      co_await t.async_wait(use_tuple);
    }
    first = co_await gate->acquire(Priority::kHigh, Clock::now() + std::chrono::seconds(10), h);
    second = co_await gate->acquire(Priority::kHigh, Clock::now() + std::chrono::milliseconds(10), h);
  }, net::detached);
  ctx.run();
  EXPECT_TRUE(first.slot);
  EXPECT_FALSE(second.slot);
  EXPECT_EQ(second.reason, ShedReason::kDeadline);
  EXPECT_EQ(gate->queued(Priority::kHigh), 0u);
  EXPECT_EQ(second.waited.count(), 0);  // decided at arrival: never queued
  EXPECT_GE(second.retry_after.count(), 40);
}

}  // namespace
}  // namespace sluice::admission
