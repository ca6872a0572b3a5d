#include "telemetry/metrics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <thread>

namespace sluice::telemetry {
namespace {

TEST(Metrics, CounterAndGaugeValues) {
  Registry r;
  auto& c = r.counter("x_total", "X.").with({});
  c.inc();
  c.inc(2.5);
  EXPECT_DOUBLE_EQ(c.value(), 3.5);
  auto& g = r.gauge("y", "Y.").with({});
  g.set(4);
  g.add(-1.5);
  EXPECT_DOUBLE_EQ(g.value(), 2.5);
}

TEST(Metrics, CounterTotalSumsEveryLabelSetOfACounter) {
  Registry r;
  EXPECT_EQ(r.counter_total("spend_total"), std::nullopt);  // not registered
  auto& f = r.counter("spend_total", "Spend.", {"key"});
  EXPECT_EQ(r.counter_total("spend_total"), 0.0);  // registered, no samples yet
  f.with({"a"}).inc(1.25);
  f.with({"b"}).inc(0.5);
  r.counter("spend_total_other", "Other.").with({}).inc(100);
  EXPECT_EQ(r.counter_total("spend_total"), 1.75);
  r.gauge("level", "A gauge.").with({}).set(3);
  EXPECT_EQ(r.counter_total("level"), std::nullopt);  // counters only
}

TEST(Metrics, WithReturnsStableReferences) {
  Registry r;
  auto& fam = r.counter("req_total", "Requests.", {"model"});
  Counter& a = fam.with({"a"});
  for (int i = 0; i < 100; ++i) {
    fam.with({"m" + std::to_string(i)}).inc();
  }
  EXPECT_EQ(&a, &fam.with({"a"}));
  a.inc();
  EXPECT_DOUBLE_EQ(fam.with({"a"}).value(), 1);
}

TEST(Metrics, RegisteringAgainReturnsSameFamilyOrThrows) {
  Registry r;
  auto& f1 = r.counter("a_total", "A.", {"x"});
  EXPECT_EQ(&f1, &r.counter("a_total", "A.", {"x"}));
  EXPECT_THROW(r.gauge("a_total", "A."), std::invalid_argument);
  EXPECT_THROW(r.counter("a_total", "A.", {"y"}), std::invalid_argument);
  EXPECT_THROW(r.counter("bad-name", "B."), std::invalid_argument);
  EXPECT_THROW(r.counter("ok_total", "B.", {"__reserved"}), std::invalid_argument);
  EXPECT_THROW(r.histogram("h", "H.", {1, 1}), std::invalid_argument);
  EXPECT_THROW(r.histogram("h2", "H.", {}), std::invalid_argument);
  EXPECT_THROW(r.histogram("h3", "H.", {1}, {"le"}), std::invalid_argument);
  EXPECT_THROW(f1.with({}), std::invalid_argument);
  EXPECT_THROW(f1.with({"1", "2"}), std::invalid_argument);
}

TEST(Metrics, ExposesCountersWithHelpTypeOnceAndSortedLabels) {
  Registry r;
  auto& fam = r.counter("sluice_requests_total", "Requests by model.", {"model", "status_class"});
  fam.with({"b", "2xx"}).inc(3);
  fam.with({"a", "5xx"}).inc();
  fam.with({"a", "2xx"}).inc(2);
  EXPECT_EQ(r.expose(),
            "# HELP sluice_requests_total Requests by model.\n"
            "# TYPE sluice_requests_total counter\n"
            "sluice_requests_total{model=\"a\",status_class=\"2xx\"} 2\n"
            "sluice_requests_total{model=\"a\",status_class=\"5xx\"} 1\n"
            "sluice_requests_total{model=\"b\",status_class=\"2xx\"} 3\n");
}

TEST(Metrics, FamiliesSortedByNameAndUnusedLabelledFamiliesOmitted) {
  Registry r;
  r.gauge("zeta", "Z.").with({}).set(1);
  r.counter("alpha_total", "A.");
  r.counter("unused_total", "Never used.", {"x"});
  EXPECT_EQ(r.expose(),
            "# HELP alpha_total A.\n# TYPE alpha_total counter\nalpha_total 0\n"
            "# HELP zeta Z.\n# TYPE zeta gauge\nzeta 1\n");
}

TEST(Metrics, EscapesLabelValuesAndHelp) {
  Registry r;
  r.gauge("g", "Help with \\ and\nnewline.", {"v"}).with({"a\\b\"c\nd"}).set(1);
  EXPECT_EQ(r.expose(),
            "# HELP g Help with \\\\ and\\nnewline.\n"
            "# TYPE g gauge\n"
            "g{v=\"a\\\\b\\\"c\\nd\"} 1\n");
}

TEST(Metrics, FormatsValues) {
  EXPECT_EQ(format_value(0), "0");
  EXPECT_EQ(format_value(42), "42");
  EXPECT_EQ(format_value(0.25), "0.25");
  EXPECT_EQ(format_value(-1.5), "-1.5");
  EXPECT_EQ(format_value(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(format_value(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(format_value(std::nan("")), "NaN");
  EXPECT_EQ(std::stod(format_value(1e-5)), 1e-5);
  EXPECT_EQ(std::stod(format_value(0.1 + 0.2)), 0.1 + 0.2);  // round-trips
}

TEST(Metrics, HistogramBucketsAreCumulativeWithInfSumCount) {
  Registry r;
  auto& h = r.histogram("lat_seconds", "Latency.", {0.1, 0.5, 1}, {"model"}).with({"m"});
  h.observe(0.05);
  h.observe(0.1);  // le is inclusive
  h.observe(0.3);
  h.observe(2);
  h.observe(std::nan(""));  // ignored
  EXPECT_EQ(r.expose(),
            "# HELP lat_seconds Latency.\n"
            "# TYPE lat_seconds histogram\n"
            "lat_seconds_bucket{model=\"m\",le=\"0.1\"} 2\n"
            "lat_seconds_bucket{model=\"m\",le=\"0.5\"} 3\n"
            "lat_seconds_bucket{model=\"m\",le=\"1\"} 3\n"
            "lat_seconds_bucket{model=\"m\",le=\"+Inf\"} 4\n"
            "lat_seconds_sum{model=\"m\"} 2.45\n"
            "lat_seconds_count{model=\"m\"} 4\n");
  auto s = h.snapshot();
  EXPECT_EQ(s.count, 4u);
  EXPECT_EQ(s.cumulative.size(), 4u);
}

TEST(Metrics, UnlabelledHistogramUsesOnlyLe) {
  Registry r;
  r.histogram("h_seconds", "H.", {1, std::numeric_limits<double>::infinity()}).with({}).observe(3);
  EXPECT_EQ(r.expose(),
            "# HELP h_seconds H.\n# TYPE h_seconds histogram\n"
            "h_seconds_bucket{le=\"1\"} 0\nh_seconds_bucket{le=\"+Inf\"} 1\n"
            "h_seconds_sum 3\nh_seconds_count 1\n");
}

TEST(Metrics, CollectorsRunAtScrapeTimeAndCanBeRemoved) {
  Registry r;
  auto& g = r.gauge("depth", "Depth.").with({});
  int calls = 0;
  auto id = r.add_collector([&] { g.set(++calls * 10); });
  EXPECT_NE(r.expose().find("depth 10\n"), std::string::npos);
  EXPECT_NE(r.expose().find("depth 20\n"), std::string::npos);
  r.remove_collector(id);
  EXPECT_NE(r.expose().find("depth 20\n"), std::string::npos);
  EXPECT_EQ(calls, 2);
}

TEST(Metrics, ConcurrentUpdatesAreNotLost) {
  Registry r;
  auto& fam = r.counter("c_total", "C.", {"t"});
  auto& h = r.histogram("h_seconds", "H.", kLatencyBuckets).with({});
  auto& g = r.gauge("g", "G.").with({});
  constexpr int kThreads = 4, kN = 20000;
  std::vector<std::thread> ts;
  for (int t = 0; t < kThreads; ++t) {
    ts.emplace_back([&] {
      auto& c = fam.with({"shared"});
      for (int i = 0; i < kN; ++i) {
        c.inc();
        g.add(1);
        h.observe(0.001 * (i % 100));
        if (i % 1000 == 0) {
          fam.with({"k" + std::to_string(i)}).inc();  // get-or-create racing with scrapes
        }
      }
    });
  }
  for (int i = 0; i < 20; ++i) {
    (void)r.expose();
  }
  for (auto& t : ts) {
    t.join();
  }
  EXPECT_DOUBLE_EQ(fam.with({"shared"}).value(), kThreads * kN);
  EXPECT_DOUBLE_EQ(g.value(), kThreads * kN);
  EXPECT_EQ(h.snapshot().count, std::uint64_t(kThreads * kN));
  EXPECT_DOUBLE_EQ(fam.with({"k0"}).value(), kThreads);
}

TEST(Metrics, LatencyBucketsSpan5msTo120s) {
  EXPECT_DOUBLE_EQ(kLatencyBuckets.front(), 0.005);
  EXPECT_DOUBLE_EQ(kLatencyBuckets.back(), 120);
  EXPECT_TRUE(std::is_sorted(kLatencyBuckets.begin(), kLatencyBuckets.end()));
}

TEST(Metrics, ProcessWideRegistryIsOneInstance) { EXPECT_EQ(&metrics(), &metrics()); }

}  // namespace
}  // namespace sluice::telemetry
