#include "bench/report.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace sluice::bench {

namespace {
RequestResult result(Clock::time_point start, Outcome o, int e2e_ms, std::int64_t tokens) {
  RequestResult r;
  r.start = start;
  r.outcome = o;
  r.e2e = std::chrono::milliseconds(e2e_ms);
  r.ttft = std::chrono::milliseconds(e2e_ms / 2);
  r.tokens = tokens;
  r.itl_us = {100, 200};
  return r;
}
}  // namespace

TEST(BenchRecorder, CountsAndTimeline) {
  const auto t0 = Clock::now();
  Recorder rec(t0);
  rec.add(result(t0, Outcome::kOk, 10, 5));
  rec.add(result(t0 + std::chrono::milliseconds(1500), Outcome::kOk, 20, 7));
  rec.add(result(t0 + std::chrono::milliseconds(1600), Outcome::kHttp503, 1, 0));
  EXPECT_EQ(rec.completed(), 3u);
  EXPECT_EQ(rec.ok(), 2u);
  EXPECT_EQ(rec.count(Outcome::kHttp503), 1u);
  EXPECT_EQ(rec.ok_tokens(), 12u);
  EXPECT_EQ(rec.e2e().count(), 2u);  // failures stay out of the latency histograms
  EXPECT_EQ(rec.itl().count(), 4u);
  EXPECT_NEAR(rec.elapsed_seconds(), 1.601, 1e-3);
  double step = 0;
  auto fine = rec.timeline(1000, step);
  EXPECT_DOUBLE_EQ(step, 0.1);
  ASSERT_EQ(fine.size(), 17u);
  EXPECT_EQ(fine[0].ok, 1u);
  EXPECT_EQ(fine[15].tokens, 7u);
  EXPECT_EQ(fine[16].completed, 1u);
  auto coarse = rec.timeline(1, step);
  EXPECT_DOUBLE_EQ(step, 2.0);
  ASSERT_EQ(coarse.size(), 1u);
  EXPECT_EQ(coarse[0].completed, 3u);
}

TEST(BenchReport, JsonTableHtml) {
  BenchOptions o;
  o.urls = {"http://127.0.0.1:9"};
  o.stream = true;
  o.rate = 50;
  o.requests = 3;
  BenchConfig cfg;
  ASSERT_EQ(validate(o, cfg), "");
  const auto t0 = Clock::now();
  Recorder rec(t0);
  rec.add(result(t0, Outcome::kOk, 10, 5));
  rec.add(result(t0, Outcome::kReset, 10, 0));
  RunInfo run{cfg, rec, "2026-01-01T00:00:00Z"};
  boost::system::error_code ec;
  auto v = boost::json::parse(format_json(run), ec);
  ASSERT_FALSE(ec);
  const auto& j = v.as_object();
  EXPECT_EQ(j.at("requests").as_int64(), 2);
  EXPECT_EQ(j.at("ok").as_int64(), 1);
  EXPECT_DOUBLE_EQ(j.at("success_pct").as_double(), 50.0);
  EXPECT_EQ(j.at("errors").at("reset").as_int64(), 1);
  EXPECT_EQ(j.at("config").at("mode").as_string(), "open");
  EXPECT_EQ(j.at("latency_ms").at("ttft").at("count").as_int64(), 1);
  EXPECT_EQ(j.at("histograms_us").at("e2e").as_array().size(), 1u);
  const auto table = format_table(run);
  EXPECT_NE(table.find("50.00 %"), std::string::npos);
  EXPECT_NE(table.find("reset 1"), std::string::npos);
  EXPECT_NE(table.find("TTFT"), std::string::npos);
  const auto html = format_html(run);
  EXPECT_NE(html.find("<svg"), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);
}

TEST(BenchReport, Units) {
  EXPECT_EQ(format_us(850), "850 µs");
  EXPECT_EQ(format_us(1234), "1.23 ms");
  EXPECT_EQ(format_us(123456), "123.5 ms");
  EXPECT_EQ(format_us(2'400'000), "2.40 s");
}

}  // namespace sluice::bench
