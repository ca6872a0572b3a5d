// The queueing model against hand-computed cases: Erlang C from the textbook sum, M/M/1 wait quantiles,
// and a sizing worked through by hand.
#include "plan/queueing.h"

#include <gtest/gtest.h>

#include <cmath>

#include "plan/plan_config.h"

namespace sluice::plan {
namespace {

// Erlang C from its definition: (a^c/c! · c/(c-a)) / (Σ_{k<c} a^k/k! + a^c/c! · c/(c-a)).
double erlang_c_by_sum(int c, double a) {
  long double term = 1;  // a^k / k!
  long double sum = 0;
  for (int k = 0; k < c; ++k) {
    sum += term;
    term = term * a / (k + 1);
  }
  const long double top = term * c / (c - a);
  return static_cast<double>(top / (sum + top));
}

TEST(PlanQueueing, ErlangCKnownValues) {
  EXPECT_NEAR(erlang_c(1, 0.5), 0.5, 1e-12);          // M/M/1: P(wait) = ρ
  EXPECT_NEAR(erlang_c(2, 1.0), 1.0 / 3.0, 1e-12);    // by hand: B(2,1) = 0.2, C = 0.4 / 1.2
  EXPECT_NEAR(erlang_c(3, 2.0), 4.0 / 9.0, 1e-12);    // (8/6 · 3) / (1 + 2 + 2 + 4)
  EXPECT_NEAR(erlang_c(5, 4.0), 0.5541125541, 1e-9);  // the classic call-centre table value
  EXPECT_NEAR(erlang_c(10, 8.0), 0.4091801508, 1e-9);
  for (int c : {1, 4, 16, 64, 150}) {
    for (double rho : {0.1, 0.5, 0.8, 0.95}) {
      EXPECT_NEAR(erlang_c(c, rho * c), erlang_c_by_sum(c, rho * c), 1e-9) << c << " " << rho;
    }
  }
}

TEST(PlanQueueing, ErlangCEdges) {
  EXPECT_EQ(erlang_c(4, 0.0), 0.0);
  EXPECT_EQ(erlang_c(4, 4.0), 1.0);  // saturated: every arrival waits
  EXPECT_EQ(erlang_c(4, 9.0), 1.0);
  EXPECT_NEAR(erlang_b(1, 1.0), 0.5, 1e-12);
  EXPECT_NEAR(erlang_b(2, 1.0), 0.2, 1e-12);
}

TEST(PlanQueueing, WaitQuantileMM1) {
  // M/M/1, λ = 0.5, μ = 1: P(W > t) = 0.5 e^{-0.5 t} → t99 = ln(50) / 0.5.
  EXPECT_NEAR(wait_quantile(1, 0.5, 1.0, 0.99), std::log(50.0) / 0.5, 1e-9);
  EXPECT_NEAR(mean_wait(1, 0.5, 1.0), 1.0, 1e-12);  // ρ/(μ-λ)
  // Fewer than 1 % wait at all: the p99 wait is 0.
  EXPECT_EQ(wait_quantile(1, 0.005, 1.0, 0.99), 0.0);
  EXPECT_TRUE(std::isinf(wait_quantile(2, 2.0, 1.0, 0.99)));
}

// One slot per replica, prefill 1000 tok/s, decode 100 tok/s; requests of 500 prompt and 50 completion
// tokens: S = 0.5 + 0.5 = 1 s, prefill 0.5 s. At λ = 0.5/s:
//   1 replica:  C = 0.5,        p99 wait ln(50)/0.5 = 7.82 s  → 8.32 s first token
//   2 replicas: C = 0.1,        p99 wait ln(10)/1.5 = 1.54 s  → 2.04 s
//   3 replicas: C = 3/198,      p99 wait ln(1.515)/2.5 = 0.17 s → 0.67 s
TEST(PlanQueueing, SizingByHand) {
  const EngineModel e{1, 1000, 100};
  EXPECT_DOUBLE_EQ(e.service_s(500, 50), 1.0);
  EXPECT_DOUBLE_EQ(e.prefill_s(500), 0.5);
  const HourTraffic t{0.5, 500, 50, 500};
  EXPECT_NEAR(p99_ttft(e, t, 1), std::log(50.0) / 0.5 + 0.5, 1e-9);
  EXPECT_NEAR(p99_ttft(e, t, 2), std::log(10.0) / 1.5 + 0.5, 1e-9);
  EXPECT_NEAR(p99_ttft(e, t, 3), std::log(3.0 / 198.0 / 0.01) / 2.5 + 0.5, 1e-9);
  Slo slo{2.0, 0.2};
  Sizing s = size_hour(e, t, slo, 1);
  EXPECT_EQ(s.replicas, 3);
  EXPECT_NEAR(s.utilisation, 0.5 / 3, 1e-12);
  EXPECT_TRUE(s.feasible);
  // A looser SLO: two replicas do.
  slo.p99_first_token_s = 2.1;
  EXPECT_EQ(size_hour(e, t, slo, 1).replicas, 2);
  // Headroom binds instead: λ = 2.5/s needs 2.5 busy slots, at most 80 % busy → 4 replicas (3.2 would do).
  slo = Slo{60.0, 0.2};
  EXPECT_EQ(size_hour(e, HourTraffic{2.5, 500, 50, 500}, slo, 1).replicas, 4);
  // No traffic: the floor.
  EXPECT_EQ(size_hour(e, HourTraffic{}, slo, 2).replicas, 2);
  // A prompt whose prefill alone misses the SLO cannot be served within it.
  slo = Slo{0.4, 0.2};
  EXPECT_FALSE(size_hour(e, t, slo, 1).feasible);
}

TEST(PlanQueueing, BatchSlotsAreServers) {
  // Batch 8, decode 800 tok/s aggregate: one sequence decodes at 100 tok/s; S = 0.5 + 8·50/800 = 1 s.
  const EngineModel e{8, 1000, 800};
  EXPECT_DOUBLE_EQ(e.service_s(500, 50), 1.0);
  const HourTraffic t{4.0, 500, 50, 500};
  // 4 busy slots of 8: C(8, 4) from the sum.
  const double c = erlang_c_by_sum(8, 4.0);
  EXPECT_NEAR(p99_ttft(e, t, 1), std::max(0.0, std::log(c / 0.01) / (8 - 4.0)) + 0.5, 1e-9);
}

TEST(PlanQueueing, MaxRateMeetsTheSloExactly) {
  const EngineModel e{1, 1000, 100};
  const HourTraffic mix{0, 500, 50, 500};
  const Slo slo{2.0, 0.2};
  for (int n : {1, 2, 3, 8}) {
    const double rate = max_rate(e, mix, slo, n);
    HourTraffic at = mix;
    at.arrival_rate = rate;
    EXPECT_LE(p99_ttft(e, at, n), slo.p99_first_token_s + 1e-6) << n;
    EXPECT_LE(rate, n * slo.max_utilisation() + 1e-9) << n;  // S = 1 s: at most 0.8 n per second
    at.arrival_rate = rate * 1.01 + 1e-6;
    const bool over =
        p99_ttft(e, at, n) > slo.p99_first_token_s || at.arrival_rate > n * slo.max_utilisation();
    EXPECT_TRUE(over) << n;
  }
  EXPECT_EQ(max_rate(e, mix, slo, 0), 0.0);
  EXPECT_LT(max_rate(e, mix, slo, 1), max_rate(e, mix, slo, 2));
}

}  // namespace
}  // namespace sluice::plan
