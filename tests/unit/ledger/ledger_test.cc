#include "ledger/ledger.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <boost/json.hpp>
#include <filesystem>
#include <future>
#include <random>
#include <thread>

#include "ledger_fixtures.h"

namespace sluice::ledger {
namespace {

namespace json = boost::json;

json::object query(Ledger& l, UsageQuery q) {
  std::promise<std::string> p;
  l.query(std::move(q), [&p](std::string s) { p.set_value(std::move(s)); });
  return json::parse(p.get_future().get()).as_object();
}

// The views must outlive the record() call: tests pass literals.
UsageRecord row(std::int64_t ts_ms, std::string_view key, std::string_view source, std::int64_t prompt,
                double cost) {
  UsageRecord r;
  r.ts_ms = ts_ms;
  r.key = key;
  r.model = "m";
  r.source = source;
  r.prompt = prompt;
  r.completion = 1;
  (r.source == "upstream" ? r.cost_usd : r.savings_usd) = cost;
  return r;
}

TEST(Ledger, AggregatesGroupsAndSurvivesReopen) {
  auto dir = std::filesystem::temp_directory_path() / ("sluice-ledger-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  config::LedgerConfig cfg;
  cfg.path = (dir / "l.db").string();
  cfg.flush_interval = std::chrono::milliseconds(10);
  std::string err;
  {
    auto l = Ledger::open(cfg, err);
    ASSERT_TRUE(l) << err;
    l->record(row(1000, "a", "upstream", 10, 0.5));
    l->record(row(2000, "b", "upstream", 20, 0.25));
    l->record(row(3000, "a", "cache", 10, 0.5));
    auto t = query(*l, {})["totals"].as_object();
    EXPECT_EQ(t["requests"], 3);
    EXPECT_EQ(t["prompt_tokens"], 30);  // billed only: the cache hit's tokens are savings
    EXPECT_EQ(t["cache_hits"], 1);
    EXPECT_DOUBLE_EQ(t["cost_usd"].to_number<double>(), 0.75);
    EXPECT_DOUBLE_EQ(t["savings_usd"].to_number<double>(), 0.5);
  }
  auto l = Ledger::open(cfg, err);
  ASSERT_TRUE(l) << err;
  UsageQuery q;
  q.group_by = {"key"};
  q.from_ms = 1500;
  auto groups = query(*l, q)["groups"].as_array();
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[0].as_object()["key"], "a");
  EXPECT_EQ(groups[0].as_object()["requests"], 1);
  EXPECT_EQ(groups[1].as_object()["key"], "b");
  UsageQuery only;
  only.only_key = "b";
  EXPECT_EQ(query(*l, only)["totals"].as_object()["requests"], 1);
  l.reset();
  std::filesystem::remove_all(dir);
}

using TempDb = testing::LedgerTempDb;

std::int64_t count_in(Ledger& l, std::int64_t from, std::int64_t to) {
  UsageQuery q;
  q.from_ms = from;
  q.to_ms = to;
  return query(l, q)["totals"].as_object()["requests"].as_int64();
}

// Time-range queries find rows through per-minute id spans, not an index: rows recorded out of time order,
// late rows for an earlier minute, batches of every size (multi-row inserts and their remainder) and ranges
// starting or ending mid-minute all count exactly what a scan would. Ranges are whole seconds, as
// /admin/usage's are: the ledger keeps per-second totals.
TEST(Ledger, TimeRangesMatchABruteForceCount) {
  TempDb db("ranges");
  std::string err;
  auto l = Ledger::open(db.cfg, err);
  ASSERT_TRUE(l) << err;
  std::mt19937_64 rng(7);
  std::vector<std::int64_t> all;
  const std::int64_t base = 1'796'000'000'000;
  for (int batch = 0; batch < 12; ++batch) {
    auto n = std::uniform_int_distribution<int>(0, 100)(rng);
    for (int i = 0; i < n; ++i) {
      // Mostly "now" (advancing), sometimes minutes late.
      std::int64_t ts = base + batch * 40'000 + std::uniform_int_distribution<std::int64_t>(0, 40'000)(rng);
      if (rng() % 10 == 0) {
        ts -= std::uniform_int_distribution<std::int64_t>(60'000, 300'000)(rng);
      }
      all.push_back(ts);
      l->record(row(ts, "k", "upstream", 1, 0));
    }
    count_in(*l, 0, 1);  // a query writes the pending batch first: the next rows form a new batch
  }
  ASSERT_EQ(count_in(*l, 0, INT64_MAX), static_cast<std::int64_t>(all.size()));
  std::uniform_int_distribution<std::int64_t> point(base - 400'000, base + 600'000);
  for (int i = 0; i < 200; ++i) {
    std::int64_t a = point(rng) / 1000 * 1000;
    std::int64_t b = i % 4 == 0 ? a + 60'000 - a % 60'000 : point(rng) / 1000 * 1000;  // some end on a minute
    auto expect = std::count_if(all.begin(), all.end(), [&](std::int64_t t) { return t >= a && t < b; });
    ASSERT_EQ(count_in(*l, a, b), expect) << "[" << a << ", " << b << ")";
  }
  EXPECT_EQ(count_in(*l, base + 10'000'000, base + 20'000'000), 0);
}

// A ledger written by an earlier sluice (implicit rowids, an index on ts_ms) keeps every row and its id,
// loses the index, and answers the same, also after a VACUUM: the spans refer to ids, which VACUUM may
// renumber unless they are declared (it does renumber the old table's rowids after a delete).
TEST(Ledger, MovesVersionOneLedgerToTheCurrentSchema) {
  TempDb db("migrate");
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(db.cfg.path.c_str(), &raw), SQLITE_OK);
  const char* v1 = R"sql(
    CREATE TABLE usage (ts_ms INTEGER NOT NULL, request_id TEXT, key TEXT, model TEXT, upstream TEXT,
      upstream_model TEXT, source TEXT NOT NULL, stream INTEGER, status INTEGER, prompt_tokens INTEGER,
      completion_tokens INTEGER, cache_hit_tokens INTEGER, cache_miss_tokens INTEGER, reasoning_tokens INTEGER,
      cost_usd REAL, savings_usd REAL);
    CREATE INDEX usage_ts ON usage(ts_ms);
    INSERT INTO usage VALUES (1000, 'r1', 'a', 'm', 'u', 'um', 'upstream', 0, 200, 10, 1, 0, 10, 0, 0.5, 0);
    INSERT INTO usage VALUES (70000, 'r2', 'b', 'm', 'u', 'um', 'upstream', 1, 200, 20, 2, 5, 15, 0, 0.25, 0);
    INSERT INTO usage VALUES (130000, 'r3', 'a', 'm', 'u', 'um', 'cache', 0, 200, 10, 1, 0, 10, 0, 0, 0.5);
  )sql";
  ASSERT_EQ(sqlite3_exec(raw, v1, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(raw);
  sqlite3_close(raw);

  std::string err;
  {
    auto l = Ledger::open(db.cfg, err);
    ASSERT_TRUE(l) << err;
    auto t = query(*l, {})["totals"].as_object();
    EXPECT_EQ(t["requests"], 3);
    EXPECT_EQ(t["prompt_tokens"], 30);
    EXPECT_DOUBLE_EQ(t["savings_usd"].to_number<double>(), 0.5);
    EXPECT_EQ(count_in(*l, 60'000, 120'000), 1);
    l->record(row(190'000, "c", "upstream", 1, 0));
  }
  ASSERT_EQ(sqlite3_open(db.cfg.path.c_str(), &raw), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(raw, "DELETE FROM usage WHERE rowid = 2; VACUUM", nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(raw);
  auto l = Ledger::open(db.cfg, err);
  ASSERT_TRUE(l) << err;
  EXPECT_EQ(count_in(*l, 0, INT64_MAX), 3);
  EXPECT_EQ(count_in(*l, 120'000, 200'000), 2);
  EXPECT_EQ(count_in(*l, 180'000, 200'000), 1);
  l.reset();

  ASSERT_EQ(sqlite3_open(db.cfg.path.c_str(), &raw), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(raw,
                     "SELECT (SELECT user_version FROM pragma_user_version),"
                     " (SELECT count(*) FROM sqlite_schema WHERE name = 'usage_ts'),"
                     " (SELECT group_concat(rowid || ':' || request_id) FROM usage)",
                     -1, &st, nullptr);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(st, 0), 3);
  EXPECT_EQ(sqlite3_column_int(st, 1), 0);
  // Not 1,2,3; row 4 is a per-second total, which has no request id.
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(st, 2)), "1:r1,3:r3");
  sqlite3_finalize(st);
  sqlite3_close(raw);
}

// Another process holding the file's write lock makes a flush fail; its rows wait in memory and are written
// by a later flush, not dropped.
TEST(Ledger, KeepsRowsWhileTheFileIsLocked) {
  TempDb db("locked");
  db.cfg.busy_timeout = std::chrono::milliseconds(20);
  std::string err;
  auto l = Ledger::open(db.cfg, err);
  ASSERT_TRUE(l) << err;
  testing::SqliteWriteLock other(db.cfg.path);
  for (int i = 0; i < 40; ++i) {
    l->record(row(1000 + i, "k", "upstream", 1, 0));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(150));  // several flushes fail meanwhile
  l->record(row(5000, "k", "upstream", 1, 0));
  other.release();
  EXPECT_EQ(count_in(*l, 0, INT64_MAX), 41);
  EXPECT_EQ(count_in(*l, 1000, 1040), 40);
}

TEST(Ledger, RefusesASchemaNewerThanItKnows) {
  TempDb db("newer");
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(db.cfg.path.c_str(), &raw), SQLITE_OK);
  sqlite3_exec(raw, "PRAGMA user_version=4", nullptr, nullptr, nullptr);
  sqlite3_close(raw);
  std::string err;
  EXPECT_FALSE(Ledger::open(db.cfg, err));
  EXPECT_NE(err.find("schema version 4 is newer"), std::string::npos) << err;
}

// Requests of the same second with the same key, model, upstream, upstream model, source, stream and status
// are one stored row of totals: 3,000 requests in 3 seconds over 2 keys, 2 sources and 2 statuses are
// 3 × 2 × 2 × 2 = 24 rows, and every total is exact.
TEST(Ledger, FoldsTheRequestsOfASecondIntoOneRowPerGroup) {
  TempDb db("fold");
  db.cfg.flush_interval = std::chrono::hours(1);  // only the query flushes: one batch
  std::string err;
  auto l = Ledger::open(db.cfg, err);
  ASSERT_TRUE(l) << err;
  std::int64_t prompt = 0;
  double cost = 0;
  for (int i = 0; i < 3000; ++i) {
    auto r =
        row(7'000 + i % 3 * 1000 + i % 997, i % 2 ? "a" : "b", i % 5 ? "upstream" : "cache", i, 0.001 * i);
    r.status = i % 7 ? 200 : 500;
    r.upstream = "u";
    std::string upstream_model = "um";  // equal text in a different buffer each time
    r.upstream_model = upstream_model;
    r.stream = i % 3 == 0;  // follows the second: no extra groups
    prompt += r.source == "upstream" ? i : 0;
    cost += r.source == "upstream" ? 0.001 * i : 0;
    l->record(r);
  }
  auto t = query(*l, {})["totals"].as_object();
  EXPECT_EQ(t["requests"], 3000);
  EXPECT_EQ(t["cache_hits"], 600);
  EXPECT_EQ(t["prompt_tokens"], prompt);
  EXPECT_NEAR(t["cost_usd"].to_number<double>(), cost, 1e-9);
  EXPECT_EQ(testing::sqlite_single_int(db.cfg.path, "SELECT count(*) FROM usage"), 24);
  EXPECT_EQ(testing::sqlite_single_int(db.cfg.path,
                                       "SELECT sum(requests) FROM usage WHERE ts_ms = 8000 AND key = 'a'"),
            500);
  EXPECT_EQ(testing::sqlite_single_int(db.cfg.path, "SELECT count(*) FROM usage WHERE ts_ms % 1000 != 0"), 0);
  EXPECT_EQ(count_in(*l, 8'000, 9'000), 1000);
  UsageQuery q;
  q.group_by = {"key", "source"};
  auto groups = query(*l, q)["groups"].as_array();
  ASSERT_EQ(groups.size(), 4u);
  EXPECT_EQ(groups[0].as_object()["key"], "a");
  EXPECT_EQ(groups[0].as_object()["source"], "cache");
  EXPECT_EQ(groups[0].as_object()["requests"], 300);
  // A later flush adds rows for the same second; the totals still add up.
  l->record(row(8'500, "a", "upstream", 1, 0));
  EXPECT_EQ(count_in(*l, 8'000, 9'000), 1001);
}

// A version-2 ledger (one row per request) gains the `requests` column: its rows count as one request each
// and keep their request ids; new rows are per-second totals beside them.
TEST(Ledger, MovesVersionTwoLedgerToTheCurrentSchema) {
  TempDb db("v2");
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(db.cfg.path.c_str(), &raw), SQLITE_OK);
  const char* v2 = R"sql(
    CREATE TABLE usage (id INTEGER PRIMARY KEY, ts_ms INTEGER NOT NULL, request_id TEXT, key TEXT, model TEXT,
      upstream TEXT, upstream_model TEXT, source TEXT NOT NULL, stream INTEGER, status INTEGER,
      prompt_tokens INTEGER, completion_tokens INTEGER, cache_hit_tokens INTEGER, cache_miss_tokens INTEGER,
      reasoning_tokens INTEGER, cost_usd REAL, savings_usd REAL);
    CREATE TABLE usage_span (minute INTEGER PRIMARY KEY, first_id INTEGER NOT NULL, last_id INTEGER NOT NULL);
    INSERT INTO usage VALUES (1, 1000, 'r1', 'a', 'm', 'u', 'um', 'upstream', 0, 200, 10, 1, 0, 10, 0, 0.5, 0);
    INSERT INTO usage VALUES (2, 1500, 'r2', 'a', 'm', 'u', 'um', 'upstream', 0, 200, 20, 2, 5, 15, 0, 0.25, 0);
    INSERT INTO usage_span VALUES (0, 1, 2);
    PRAGMA user_version=2;
  )sql";
  ASSERT_EQ(sqlite3_exec(raw, v2, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(raw);
  sqlite3_close(raw);
  std::string err;
  {
    auto l = Ledger::open(db.cfg, err);
    ASSERT_TRUE(l) << err;
    l->record(row(1200, "a", "upstream", 5, 0.125));
    l->record(row(1700, "a", "upstream", 5, 0.125));
    auto t = query(*l, {})["totals"].as_object();
    EXPECT_EQ(t["requests"], 4);
    EXPECT_EQ(t["prompt_tokens"], 40);
    EXPECT_DOUBLE_EQ(t["cost_usd"].to_number<double>(), 1.0);
    EXPECT_EQ(count_in(*l, 1000, 2000), 4);
  }
  EXPECT_EQ(testing::sqlite_single_int(db.cfg.path, "PRAGMA user_version"), 3);
  EXPECT_EQ(testing::sqlite_single_int(db.cfg.path, "SELECT count(*) FROM usage"), 3);
  EXPECT_EQ(testing::sqlite_single_int(db.cfg.path, "SELECT requests FROM usage WHERE id = 3"), 2);
  EXPECT_EQ(
      testing::sqlite_single_int(db.cfg.path, "SELECT count(*) FROM usage WHERE request_id IN ('r1', 'r2')"),
      2);
}

TEST(Ledger, ParsesQueryParameters) {
  std::string err;
  auto q = parse_usage_query("/admin/usage?from=2026-11-23&to=1795400000&group_by=model,day", err);
  ASSERT_TRUE(q) << err;
  EXPECT_EQ(q->from_ms, 1795392000000);
  EXPECT_EQ(q->to_ms, 1795400000000);
  EXPECT_EQ(q->group_by, (std::vector<std::string>{"model", "day"}));
  EXPECT_TRUE(parse_usage_query("/admin/usage?from=2026-11-23T10:00:00Z", err));
  EXPECT_FALSE(parse_usage_query("/admin/usage?group_by=colour", err));
  EXPECT_NE(err.find("colour"), std::string::npos);
  EXPECT_FALSE(parse_usage_query("/admin/usage?from=yesterday", err));
  EXPECT_FALSE(parse_usage_query("/admin/usage?x=1", err));
  EXPECT_FALSE(parse_usage_query("/admin/usage?to=99999999999999999", err));  // overflows in milliseconds
}

}  // namespace
}  // namespace sluice::ledger
