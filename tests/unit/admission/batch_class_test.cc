// The `batch` class at a group gate: it takes a slot only while the batch reserve stays free and nobody
// waits, and it never queues (so it never delays or crowds out interactive classes).
#include <gtest/gtest.h>

#include "admission/group_gate.h"

namespace sluice::admission {
namespace {

config::AdmissionGroup four_slots(std::uint32_t reserve) {
  config::AdmissionGroup g;
  g.max_concurrent = 4;
  g.max_queue = 10;
  g.batch_reserve = reserve;
  return g;
}

GateResult acquire_now(net::io_context& ctx, GroupGate& gate, Priority p) {
  GateResult out;
  WaitHook h;
  net::co_spawn(
      ctx,
      [&]() -> net::awaitable<void> {
        out = co_await gate.acquire(p, Clock::now() + std::chrono::seconds(10), h);
      },
      net::detached);
  ctx.restart();
  ctx.poll();
  return out;
}

TEST(BatchClass, UsesOnlyCapacityAboveTheReserve) {
  auto gate = std::make_shared<GroupGate>("g", four_slots(50), config::AdmissionConfig{});  // batch: 2 of 4
  net::io_context ctx;
  auto b1 = acquire_now(ctx, *gate, Priority::kBatch);
  auto b2 = acquire_now(ctx, *gate, Priority::kBatch);
  auto b3 = acquire_now(ctx, *gate, Priority::kBatch);
  EXPECT_TRUE(b1.slot);
  EXPECT_TRUE(b2.slot);
  EXPECT_FALSE(b3.slot);
  EXPECT_EQ(b3.reason, ShedReason::kNoHeadroom);
  EXPECT_GE(b3.retry_after.count(), 1);
  EXPECT_EQ(gate->queued(Priority::kBatch), 0u);  // refused at once, never queued
  // Interactive requests still get the reserved half.
  auto i1 = acquire_now(ctx, *gate, Priority::kLow);
  auto i2 = acquire_now(ctx, *gate, Priority::kHigh);
  EXPECT_TRUE(i1.slot);
  EXPECT_TRUE(i2.slot);
  EXPECT_EQ(gate->in_flight(), 4u);
  EXPECT_EQ(
      gate->stats()
          .shed[static_cast<std::size_t>(Priority::kBatch)][static_cast<std::size_t>(ShedReason::kNoHeadroom)]
          .load(),
      1u);
}

TEST(BatchClass, InteractiveLoadLeavesNoHeadroom) {
  auto gate = std::make_shared<GroupGate>("g", four_slots(25), config::AdmissionConfig{});  // batch: 3 of 4
  net::io_context ctx;
  auto i1 = acquire_now(ctx, *gate, Priority::kMedium);
  auto i2 = acquire_now(ctx, *gate, Priority::kMedium);
  auto i3 = acquire_now(ctx, *gate, Priority::kMedium);
  ASSERT_TRUE(i1.slot && i2.slot && i3.slot);
  EXPECT_FALSE(acquire_now(ctx, *gate, Priority::kBatch).slot);  // 3 in flight: at the batch limit
  i1.slot.release();
  auto b = acquire_now(ctx, *gate, Priority::kBatch);
  EXPECT_TRUE(b.slot);
}

TEST(BatchClass, NeverJumpsAheadOfWaiters) {
  auto gate = std::make_shared<GroupGate>("g", four_slots(0), config::AdmissionConfig{});
  net::io_context ctx;
  std::vector<GateResult> held;
  for (int i = 0; i < 4; ++i) {
    held.push_back(acquire_now(ctx, *gate, Priority::kLow));
  }
  WaitHook h;
  GateResult waiter;
  net::co_spawn(
      ctx,
      [&]() -> net::awaitable<void> {
        waiter = co_await gate->acquire(Priority::kLow, Clock::now() + std::chrono::seconds(10), h);
      },
      net::detached);
  ctx.restart();
  ctx.poll();
  ASSERT_EQ(gate->queued(Priority::kLow), 1u);
  held[0].slot.release();  // the slot goes to the waiter...
  ctx.restart();
  ctx.poll();
  EXPECT_TRUE(waiter.slot);
  EXPECT_FALSE(acquire_now(ctx, *gate, Priority::kBatch).slot);  // ...and batch finds none
}

TEST(BatchClass, UnlimitedGroupAdmitsBatch) {
  config::AdmissionGroup g;  // no max_concurrent: no limit
  auto gate = std::make_shared<GroupGate>("g", g, config::AdmissionConfig{});
  net::io_context ctx;
  EXPECT_TRUE(acquire_now(ctx, *gate, Priority::kBatch).slot);
}

}  // namespace
}  // namespace sluice::admission
