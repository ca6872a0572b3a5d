#include <gtest/gtest.h>

#include "gateway/reload.h"
#include "loader_test_util.h"

namespace sluice::config {
namespace {

using testing::load;
using testing::strings;

constexpr std::string_view kBase = R"(
upstreams:
  u: {base_url: "http://127.0.0.1:1"}
models:
  m: {upstream: u}
)";

LoadResult load_with(std::string_view batch, testing::EnvMap env = {}) {
  return load(std::string(kBase) + std::string(batch), std::move(env));
}

TEST(LoaderBatch, OffByDefault) {
  auto r = load(kBase);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r.config->batch.enabled);
}

TEST(LoaderBatch, DefaultsWithAnEmptySection) {
  auto r = load_with("batch: {}\n");
  ASSERT_TRUE(r.ok()) << strings(r.errors).front();
  const auto& b = r.config->batch;
  EXPECT_TRUE(b.enabled);
  EXPECT_EQ(b.store, BatchConfig::Store::kSqlite);
  EXPECT_EQ(b.sqlite_path, "sluice-data/batch.db");
  EXPECT_EQ(b.concurrency, 8u);
  EXPECT_EQ(b.max_file_bytes, 100u * 1024 * 1024);
}

TEST(LoaderBatch, EveryKey) {
  auto r = load_with(R"(batch:
  enabled: true
  store: postgres
  data_dir: /var/lib/sluice
  postgres: {conninfo_env: PG_DSN, connections: 3, ledger: false}
  max_file_bytes: 2MiB
  max_lines: 1000
  concurrency: 4
  lease: 30s
  poll_interval: 500ms
  min_completion_window: 10s
  max_completion_window: 48h
  retry_base: 2s
  retry_cap: 1m
  assumed_output_tokens: 100
  initial_line_time: 3s
  time_scale: 60
  time_start: "14:00"
)",
                     {{"PG_DSN", "host=/tmp port=5432"}});
  ASSERT_TRUE(r.ok()) << strings(r.errors).front();
  const auto& b = r.config->batch;
  EXPECT_EQ(b.store, BatchConfig::Store::kPostgres);
  EXPECT_EQ(b.postgres_conninfo, "host=/tmp port=5432");
  EXPECT_EQ(b.postgres_connections, 3u);
  EXPECT_FALSE(b.postgres_ledger);
  EXPECT_EQ(b.sqlite_path, "/var/lib/sluice/batch.db");
  EXPECT_EQ(b.max_file_bytes, 2u * 1024 * 1024);
  EXPECT_EQ(b.max_lines, 1000u);
  EXPECT_EQ(b.concurrency, 4u);
  EXPECT_EQ(b.lease.count(), 30'000);
  EXPECT_EQ(b.poll_interval.count(), 500);
  EXPECT_EQ(b.min_completion_window.count(), 10'000);
  EXPECT_EQ(b.max_completion_window.count(), 48 * 3'600'000);
  EXPECT_EQ(b.retry_base.count(), 2'000);
  EXPECT_EQ(b.retry_cap.count(), 60'000);
  EXPECT_EQ(b.assumed_output_tokens, 100u);
  EXPECT_EQ(b.initial_line_time.count(), 3'000);
  EXPECT_DOUBLE_EQ(b.time_scale, 60);
  EXPECT_EQ(b.time_start_minute, 14 * 60);
}

TEST(LoaderBatch, ErrorsNameFileLineAndKey) {
  auto r = load_with(R"(batch:
  store: redis
  concurrency: 0
  lease: 1s
  poll_interval: 1s
  bogus: 1
  time_scale: 0
  time_start: "25:00"
)");
  ASSERT_FALSE(r.ok());
  const auto e = strings(r.errors);
  EXPECT_NE(std::find(e.begin(), e.end(),
                      "test.yaml:6: batch.store: unknown store \"redis\" (expected one of: "
                      "sqlite, postgres)"),
            e.end())
      << ::testing::PrintToString(e);
  EXPECT_NE(
      std::find_if(e.begin(), e.end(), [](auto& s) { return s.starts_with("test.yaml:10: batch.bogus"); }),
      e.end());
  EXPECT_NE(std::find_if(e.begin(), e.end(),
                         [](auto& s) { return s.starts_with("test.yaml:7: batch.concurrency"); }),
            e.end());
  EXPECT_NE(std::find_if(e.begin(), e.end(),
                         [](auto& s) {
                           return s.find("batch.lease: must be at least twice poll_interval") != s.npos;
                         }),
            e.end());
  EXPECT_NE(std::find_if(e.begin(), e.end(),
                         [](auto& s) { return s.starts_with("test.yaml:11: batch.time_scale"); }),
            e.end());
  EXPECT_NE(std::find(e.begin(), e.end(), "test.yaml:12: batch.time_start: expected \"HH:MM\" (UTC), got \"25:00\""),
            e.end())
      << ::testing::PrintToString(e);
}

TEST(LoaderBatch, PostgresNeedsItsVariable) {
  auto r = load_with("batch:\n  store: postgres\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(
      strings(r.errors).front(),
      "test.yaml:5: batch.postgres.conninfo_env: environment variable SLUICE_BATCH_PG is not set or empty "
      "(store: postgres)");
  EXPECT_TRUE(load_with("batch:\n  enabled: false\n  store: postgres\n").ok());  // off: nothing to connect to
}

TEST(LoaderBatch, WindowBoundsAndRetryOrder) {
  auto r = load_with("batch:\n  min_completion_window: 2h\n  max_completion_window: 1h\n  retry_base: 2m\n");
  ASSERT_FALSE(r.ok());
  const auto e = strings(r.errors);
  ASSERT_EQ(e.size(), 2u) << ::testing::PrintToString(e);
  EXPECT_NE(e[0].find("min_completion_window: must not exceed max_completion_window"), std::string::npos);
  EXPECT_NE(e[1].find("retry_base: must not exceed retry_cap"), std::string::npos);
}

TEST(LoaderAdmissionBatch, BatchReserveAndTheBatchClass) {
  auto r =
      load(std::string(kBase) + "admission:\n  groups:\n    m: {max_concurrent: 8, batch_reserve: 50}\n");
  ASSERT_TRUE(r.ok()) << strings(r.errors).front();
  EXPECT_EQ(r.config->admission.groups.at("m").batch_reserve, 50u);
  EXPECT_EQ(std::string(to_string(Priority::kBatch)), "batch");
  EXPECT_FALSE(parse_priority("batch"));  // clients cannot pick the batch class
  auto bad =
      load(std::string(kBase) + "admission:\n  groups:\n    m: {max_concurrent: 8, batch_reserve: 101}\n");
  EXPECT_FALSE(bad.ok());
}

}  // namespace
}  // namespace sluice::config

namespace sluice::gateway {
namespace {

TEST(BatchReload, StoreSettingsNeedARestartOthersDoNot) {
  config::Config a;
  config::Config b;
  a.batch.enabled = b.batch.enabled = true;
  b.batch.concurrency = 3;  // applies on reload
  b.batch.poll_interval = std::chrono::milliseconds(200);
  EXPECT_TRUE(settings_requiring_restart(a, b).empty());
  b.batch.sqlite_path = "/elsewhere/batch.db";
  auto out = settings_requiring_restart(a, b);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_NE(out[0].find("batch:"), std::string::npos);
}

}  // namespace
}  // namespace sluice::gateway
