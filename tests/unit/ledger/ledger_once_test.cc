// Ledger::record_once, the idempotent and durable path the Batch API feeds its lines through: an id is
// applied once however often it comes (in one call, in later calls, after a reopen), the rows are on disk
// when `done` says so, and a write that fails writes nothing (the caller gives the records again).
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <boost/json.hpp>
#include <filesystem>
#include <future>

#include "ledger/ledger.h"
#include "ledger_fixtures.h"

namespace sluice::ledger {
namespace {

namespace json = boost::json;

OnceRecord once_line(const std::string& id, std::int64_t ts_ms, std::int64_t prompt, double cost) {
  UsageRecord r;
  r.ts_ms = ts_ms;
  r.key = "team";
  r.model = "deepseek-chat";
  r.upstream = "ds";
  r.upstream_model = "deepseek-chat";
  r.source = "upstream";
  r.status = 200;
  r.prompt = prompt;
  r.completion = 2;
  r.cost_usd = cost;
  return once_record(id, r);
}

bool apply_records(Ledger& l, std::vector<OnceRecord> records) {
  std::promise<bool> p;
  l.record_once(std::move(records), [&p](bool ok) { p.set_value(ok); });
  return p.get_future().get();
}

json::object once_totals(Ledger& l) {
  std::promise<std::string> p;
  l.query({}, [&p](std::string s) { p.set_value(std::move(s)); });
  return json::parse(p.get_future().get()).as_object()["totals"].as_object();
}

TEST(LedgerOnce, AnIdIsCountedOnceHoweverOftenItComes) {
  testing::LedgerTempDb db("once-dedup");
  db.cfg.flush_interval = std::chrono::hours(1);  // record_once must not wait for a flush
  std::string err;
  auto l = Ledger::open(db.cfg, err);
  ASSERT_TRUE(l) << err;
  // b twice in one call; a and b again in the next; c new.
  ASSERT_TRUE(
      apply_records(*l, {once_line("batch_x/0", 1'000, 10, 0.5), once_line("batch_x/1", 1'200, 20, 0.25),
                         once_line("batch_x/1", 1'300, 20, 0.25)}));
  ASSERT_TRUE(
      apply_records(*l, {once_line("batch_x/0", 1'000, 10, 0.5), once_line("batch_x/1", 1'200, 20, 0.25),
                         once_line("batch_x/2", 2'500, 40, 0.125)}));
  auto t = once_totals(*l);
  EXPECT_EQ(t["requests"], 3);
  EXPECT_EQ(t["prompt_tokens"], 70);
  EXPECT_DOUBLE_EQ(t["cost_usd"].to_number<double>(), 0.875);
  // Durable once `done` said so (the flush interval is an hour): the two lines of second 1 are one row.
  EXPECT_EQ(testing::sqlite_single_int(db.cfg.path, "SELECT sum(requests) FROM usage"), 3);
  EXPECT_EQ(testing::sqlite_single_int(db.cfg.path, "SELECT count(*) FROM usage"), 2);
  EXPECT_EQ(testing::sqlite_single_int(db.cfg.path, "SELECT count(*) FROM usage_applied"), 3);
  // The applied ids live in the file: a restarted process feeding the same lines again adds nothing.
  l.reset();
  l = Ledger::open(db.cfg, err);
  ASSERT_TRUE(l) << err;
  ASSERT_TRUE(
      apply_records(*l, {once_line("batch_x/2", 2'500, 40, 0.125), once_line("batch_x/0", 1'000, 10, 0.5)}));
  EXPECT_EQ(once_totals(*l)["requests"], 3);
  // Time ranges find once-only rows like any other (their minute spans are kept).
  UsageQuery q;
  q.from_ms = 2'000;
  std::promise<std::string> p;
  l->query(q, [&p](std::string s) { p.set_value(std::move(s)); });
  EXPECT_EQ(json::parse(p.get_future().get()).as_object()["totals"].as_object()["requests"], 1);
}

TEST(LedgerOnce, AFailedWriteWritesNothingAndCanBeGivenAgain) {
  testing::LedgerTempDb db("once-locked");
  db.cfg.busy_timeout = std::chrono::milliseconds(20);
  std::string err;
  auto l = Ledger::open(db.cfg, err);
  ASSERT_TRUE(l) << err;
  testing::SqliteWriteLock other(db.cfg.path);
  EXPECT_FALSE(
      apply_records(*l, {once_line("batch_y/0", 1'000, 10, 0.5), once_line("batch_y/1", 1'000, 10, 0.5)}));
  other.release();
  EXPECT_EQ(testing::sqlite_single_int(db.cfg.path, "SELECT count(*) FROM usage_applied"),
            0);  // no id kept without its row
  EXPECT_TRUE(
      apply_records(*l, {once_line("batch_y/0", 1'000, 10, 0.5), once_line("batch_y/1", 1'000, 10, 0.5)}));
  EXPECT_EQ(once_totals(*l)["requests"], 2);
}

TEST(LedgerOnce, TheHotPathAndOnceOnlyRowsAddUp) {
  testing::LedgerTempDb db("once-mixed");
  std::string err;
  auto l = Ledger::open(db.cfg, err);
  ASSERT_TRUE(l) << err;
  UsageRecord r;
  r.ts_ms = 1'000;
  r.key = "team";
  r.source = "cache";
  r.savings_usd = 1;
  l->record(r);
  ASSERT_TRUE(apply_records(*l, {once_line("batch_z/0", 1'000, 10, 0.5)}));
  auto t = once_totals(*l);
  EXPECT_EQ(t["requests"], 2);
  EXPECT_EQ(t["upstream_requests"], 1);
  EXPECT_EQ(t["cache_hits"], 1);
}

}  // namespace
}  // namespace sluice::ledger
