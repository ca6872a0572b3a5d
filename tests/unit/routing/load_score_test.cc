#include "routing/load_score.h"

#include <gtest/gtest.h>

#include <map>
#include <random>

#include "routing/balancer.h"

namespace sluice::routing {
namespace {

TEST(LoadScore, ParsesVllmMetrics) {
  const char* text =
      "# HELP vllm:num_requests_running Number of requests currently running on GPU.\n"
      "# TYPE vllm:num_requests_running gauge\n"
      "vllm:num_requests_running{model_name=\"a\"} 7\n"
      "vllm:num_requests_running{model_name=\"b\"} 3.0\n"
      "vllm:num_requests_waiting{model_name=\"a\"} 12 1700000000000\n"
      "vllm:kv_cache_usage_perc{model_name=\"a\"} 0.5\n"
      "vllm:gpu_cache_usage_perc{model_name=\"a\"} 0.9\n"
      "vllm:num_requests_running_total 99\n"
      "sim_slots 16\n";
  auto l = parse_load_metrics(text);
  ASSERT_TRUE(l);
  EXPECT_DOUBLE_EQ(l->running, 10);
  EXPECT_DOUBLE_EQ(l->waiting, 12);
  EXPECT_DOUBLE_EQ(l->kv_usage, 0.5) << "the first kv metric name wins; the old alias is not mixed in";
  EXPECT_DOUBLE_EQ(l->capacity, 16);
}

TEST(LoadScore, ParsesSglangMetrics) {
  auto l = parse_load_metrics(
      "sglang:num_running_reqs{model_name=\"m\"} 4\nsglang:num_queue_reqs{model_name=\"m\"} 2\n"
      "sglang:token_usage{model_name=\"m\"} 0.25\n");
  ASSERT_TRUE(l);
  EXPECT_DOUBLE_EQ(l->running, 4);
  EXPECT_DOUBLE_EQ(l->waiting, 2);
  EXPECT_DOUBLE_EQ(l->kv_usage, 0.25);
  EXPECT_DOUBLE_EQ(l->capacity, 0);
}

TEST(LoadScore, RejectsPagesWithoutEngineMetrics) {
  EXPECT_FALSE(parse_load_metrics(""));
  EXPECT_FALSE(parse_load_metrics("process_cpu_seconds_total 3\n"));
  EXPECT_FALSE(parse_load_metrics("<html>not metrics</html>"));
  // Broken values are skipped, not read as zero.
  auto l = parse_load_metrics("vllm:num_requests_running NaN\nvllm:num_requests_waiting 2x\nvllm:num_requests_running 1\n");
  ASSERT_TRUE(l);
  EXPECT_DOUBLE_EQ(l->running, 1);
  EXPECT_DOUBLE_EQ(l->waiting, 0);
}

TEST(LoadScore, CostFollowsTheFormula) {
  LoadInputs in;
  in.capacity = 10;
  in.running = 4;
  EXPECT_DOUBLE_EQ(load_cost(in), 0.5);  // (4 + 0 + 1) / 10
  in.waiting = 5;
  EXPECT_DOUBLE_EQ(load_cost(in), 0.5 + 4 * 0.5);
  in.waiting = 0;
  in.kv_usage = 0.5;
  EXPECT_DOUBLE_EQ(load_cost(in), 1.0);
  in.kv_usage = 1.0;  // capped at 0.95: ×20, never infinite
  EXPECT_NEAR(load_cost(in), 0.5 * 20, 1e-9);
  in.kv_usage = 0;
  in.ttft_ewma_ms = 1000;
  EXPECT_DOUBLE_EQ(load_cost(in), 1.0);
  in.ttft_ewma_ms = 0;
  in.sent_since_scrape = 5;
  EXPECT_DOUBLE_EQ(load_cost(in), 1.0);
}

TEST(LoadScore, BigIdleHostBeatsSmallBusyOne) {
  LoadInputs big{.running = 40, .waiting = 0, .kv_usage = 0.2, .capacity = 256};
  LoadInputs small{.running = 16, .waiting = 3, .kv_usage = 0.6, .capacity = 16};
  EXPECT_LT(load_cost(big), load_cost(small));
  // A queue is worse than a full batch: the same number of requests, queued, costs more.
  LoadInputs full{.running = 16, .capacity = 16};
  LoadInputs queued{.running = 8, .waiting = 8, .capacity = 16};
  EXPECT_LT(load_cost(full), load_cost(queued));
}

TEST(LoadAwareBalancer, PrefersTheCheaperReport) {
  Balancer b{BalancerKind::kLoadAware};
  std::vector<HostLoad> hosts(2);
  hosts[0].load_cost = 3.0;
  hosts[1].load_cost = 0.2;
  std::mt19937_64 rng(3);
  std::vector<std::size_t> cand{0, 1};
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(b.pick(cand, hosts, rng), 1u);
  }
}

TEST(LoadAwareBalancer, WithoutReportsFallsBackToLeastRequest) {
  Balancer b{BalancerKind::kLoadAware};
  std::vector<HostLoad> hosts(2);
  hosts[0].in_flight = 0;
  hosts[1].in_flight = 9;
  hosts[1].load_cost = 0.01;  // only one side has a report: not comparable, use in-flight
  std::mt19937_64 rng(3);
  std::vector<std::size_t> cand{0, 1};
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(b.pick(cand, hosts, rng), 0u);
  }
}

TEST(SlowStart, WeightFactorScalesWeightedRandomAndRoundRobin) {
  std::vector<HostLoad> hosts(2);
  hosts[1].weight_factor = 0.25;
  std::vector<std::size_t> cand{0, 1};
  for (auto kind : {BalancerKind::kWeightedRandom, BalancerKind::kRoundRobin}) {
    Balancer b{kind};
    std::mt19937_64 rng(11);
    std::map<std::size_t, int> h;
    for (int i = 0; i < 20000; ++i) {
      h[b.pick(cand, hosts, rng)]++;
    }
    EXPECT_GT(h[1], 0) << to_string(kind);
    EXPECT_LT(h[1], h[0] / 2) << to_string(kind) << ": a ramping host gets a fraction of the traffic";
  }
}

}  // namespace
}  // namespace sluice::routing
