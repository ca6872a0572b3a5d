// `sluice bench --engine-out` writes what `sluice plan` reads: the rates reproduce the run's mean times
// under the planner's service model, and the file loads as an engine.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "bench/report.h"
#include "plan/load.h"
#include "plan/queueing.h"

namespace sluice::plan {
namespace {

using bench::Clock;

bench::RequestResult streamed(int ttft_ms, int e2e_ms, std::int64_t prompt, std::int64_t cached,
                              std::int64_t completion) {
  bench::RequestResult r;
  r.start = Clock::now();
  r.outcome = bench::Outcome::kOk;
  r.ttft = std::chrono::milliseconds(ttft_ms);
  r.e2e = std::chrono::milliseconds(e2e_ms);
  r.tokens = completion;
  r.prompt_tokens = prompt;
  r.cached_prompt_tokens = cached;
  return r;
}

bench::BenchConfig closed_loop(std::string& error) {
  bench::BenchOptions o;
  o.urls = {"http://127.0.0.1:9"};
  o.stream = true;
  o.concurrency = 4;
  o.requests = 2;
  o.engine_out = "engine.yaml";
  o.engine_gpus = 2;
  bench::BenchConfig cfg;
  error = bench::validate(o, cfg);
  return cfg;
}

TEST(PlanEngineFile, BenchWritesWhatPlanReads) {
  std::string error;
  const bench::BenchConfig cfg = closed_loop(error);
  ASSERT_EQ(error, "");
  bench::Recorder rec(Clock::now());
  rec.add(streamed(100, 1100, 1000, 200, 50));
  rec.add(streamed(50, 550, 600, 0, 25));
  rec.add(streamed(10, 20, -1, 0, 3));  // no usage chunk: left out of the rates
  const std::string text = bench::format_engine_file({cfg, rec, "2026-01-01T00:00:00Z"}, error);
  ASSERT_FALSE(text.empty()) << error;

  const auto dir =
      std::filesystem::temp_directory_path() / ("sluice-engine-file-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "engine.yaml").string();
  std::ofstream(path) << text;
  Diagnostics d;
  auto e = load_engine_file(path, d);
  std::filesystem::remove_all(dir);
  ASSERT_TRUE(e) << (d.errors.empty() ? "" : d.errors[0].to_string());
  EXPECT_EQ(e->batch, 4);
  EXPECT_EQ(e->gpus, 2);
  // Prefill: 1400 uncached prompt tokens in 0.15 s of first-token time; decode: 4 × 75 tokens in 1.5 s.
  EXPECT_NEAR(e->prefill_tokens_per_s, 1400 / 0.15, 0.1);
  EXPECT_NEAR(e->decode_tokens_per_s, 200, 0.1);
  EXPECT_EQ(e->measured->requests, 2);
  EXPECT_NEAR(e->measured->mean_e2e_s, 0.825, 1e-6);
  // The planner's service time for the run's mean request is the run's mean end-to-end time.
  const EngineModel m{e->batch, e->prefill_tokens_per_s, e->decode_tokens_per_s};
  EXPECT_NEAR(m.service_s(700, 37.5), 0.825, 1e-4);
  EXPECT_NE(e->source.find("--concurrency 4"), std::string::npos);
}

TEST(PlanEngineFile, NeedsAClosedLoopStreamWithUsage) {
  bench::BenchOptions o;
  o.urls = {"http://127.0.0.1:9"};
  o.engine_out = "engine.yaml";
  bench::BenchConfig cfg;
  o.concurrency = 4;
  EXPECT_NE(bench::validate(o, cfg).find("--engine-out needs --stream"), std::string::npos);  // not streaming
  o.stream = true;
  o.no_include_usage = true;
  EXPECT_NE(bench::validate(o, cfg), "");
  o.no_include_usage = false;
  o.concurrency.reset();
  o.rate = 5;
  EXPECT_NE(bench::validate(o, cfg), "");  // open loop: no batch size
  o.rate.reset();
  o.concurrency = 4;
  o.engine_gpus = 0;
  EXPECT_EQ(bench::validate(o, cfg), "--engine-gpus must be between 1 and 1024");
  // A run without usage cannot say.
  std::string error;
  const bench::BenchConfig ok = closed_loop(error);
  bench::Recorder rec(Clock::now());
  rec.add(streamed(10, 20, -1, 0, 3));
  EXPECT_EQ(bench::format_engine_file({ok, rec, "t"}, error), "");
  EXPECT_NE(error.find("no successful stream reported usage"), std::string::npos);
}

}  // namespace
}  // namespace sluice::plan
