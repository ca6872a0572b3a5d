// The autoscaling signal: a gate's pending work is its queue plus what runs above a limit that dropped, and
// sluice_pending_work sums the live gates at scrape time (a gate that goes away takes its share with it).
#include <gtest/gtest.h>

#include "admission/admission_metrics.h"
#include "admission/group_gate.h"

namespace sluice::admission {
namespace {

config::AdmissionGroup pending_group(std::size_t max_concurrent, config::AdaptiveAlgorithm adaptive) {
  config::AdmissionGroup g;
  g.max_concurrent = max_concurrent;
  g.max_queue = 100;
  g.adaptive = adaptive;
  g.initial_concurrent = max_concurrent;
  return g;
}

// Holds slots and parks waiters on one io_context; everything ends when the test releases.
struct GateDriver {
  explicit GateDriver(std::shared_ptr<GroupGate> g) : gate(std::move(g)) {}
  void take(std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
      net::co_spawn(
          ctx,
          [this]() -> net::awaitable<void> {
            auto r = co_await gate->acquire(Priority::kMedium, Clock::now() + std::chrono::seconds(30), hook);
            if (r.slot) {
              held.push_back(std::move(r.slot));
            }
          },
          net::detached);
    }
    run();
  }
  void release_all() {
    held.clear();  // grants the waiters, which then hold their slots in `held`
    run();
  }
  void run() {
    ctx.restart();  // a poll that ran out of work left the context stopped
    ctx.poll();
  }
  std::shared_ptr<GroupGate> gate;
  net::io_context ctx;
  WaitHook hook;
  std::vector<Slot> held;
};

double scraped_total() {
  telemetry::metrics().expose();  // runs the collectors
  return pending_work_total().value();
}

TEST(PendingWork, CountsQueuedRequests) {
  GateDriver d{std::make_shared<GroupGate>("pw-static", pending_group(2, config::AdaptiveAlgorithm::kOff),
                                           config::AdmissionConfig{})};
  d.take(2);
  EXPECT_EQ(d.gate->pending(), 0u);  // running within the limit is not pending
  d.take(3);
  EXPECT_EQ(d.gate->in_flight(), 2u);
  EXPECT_EQ(d.gate->pending(), 3u);
  d.release_all();  // two of the three waiters get the freed slots
  EXPECT_EQ(d.gate->pending(), 1u);
  d.release_all();
  d.release_all();
  EXPECT_EQ(d.gate->pending(), 0u);
}

TEST(PendingWork, CountsRequestsInFlightAboveALimitThatDropped) {
  GateDriver d{std::make_shared<GroupGate>("pw-aimd", pending_group(10, config::AdaptiveAlgorithm::kAimd),
                                           config::AdmissionConfig{})};
  d.take(10);
  EXPECT_EQ(d.gate->pending(), 0u);
  d.gate->on_attempt(std::nullopt, true);  // an upstream 429: the limit falls to 9 (× 0.9)
  EXPECT_EQ(d.gate->limit(), 9.0);
  EXPECT_EQ(d.gate->pending(), 1u);  // ten run where nine fit
  d.take(2);
  EXPECT_EQ(d.gate->pending(), 3u);
  d.release_all();  // 10 slots free, limit 9: both waiters run, nothing above the limit
  EXPECT_EQ(d.gate->in_flight(), 2u);
  EXPECT_EQ(d.gate->pending(), 0u);
}

TEST(PendingWork, PodTotalSumsLiveGatesAndForgetsAGateThatIsGone) {
  const double before = scraped_total();
  auto a = std::make_unique<GateDriver>(std::make_shared<GroupGate>(
      "pw-a", pending_group(1, config::AdaptiveAlgorithm::kOff), config::AdmissionConfig{}));
  GateDriver b{std::make_shared<GroupGate>("pw-b", pending_group(1, config::AdaptiveAlgorithm::kOff),
                                           config::AdmissionConfig{})};
  a->take(4);  // 1 running, 3 queued
  b.take(3);   // 1 running, 2 queued
  EXPECT_EQ(scraped_total() - before, 5.0);
  auto& per_group = telemetry::metrics().gauge("sluice_group_pending_work", "", {"group"});
  EXPECT_EQ(per_group.with({"pw-a"}).value(), 3.0);
  EXPECT_EQ(per_group.with({"pw-b"}).value(), 2.0);
  b.release_all();
  EXPECT_EQ(scraped_total() - before, 4.0);
  a->release_all();
  a->release_all();
  a->release_all();
  a->release_all();
  a.reset();  // the gate dies with its driver (the last slot released last)
  EXPECT_EQ(scraped_total() - before, 1.0);
  EXPECT_EQ(per_group.with({"pw-a"}).value(), 0.0);
}

}  // namespace
}  // namespace sluice::admission
