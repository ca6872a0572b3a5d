// The ledger's PostgreSQL sink (batch.store: postgres): the same rows give the same /admin/usage answers as
// the SQLite file, and two replicas writing to one database are both counted.
#include <gtest/gtest.h>

#include <future>

#include "ledger/ledger.h"
#include "pg_server.h"
#include "store_fixtures.h"

namespace sluice::ledger {
namespace {

std::string ask(Ledger& l, UsageQuery q) {
  std::promise<std::string> p;
  l.query(std::move(q), [&p](std::string s) { p.set_value(std::move(s)); });
  return p.get_future().get();
}

void record_sample(Ledger& l, std::string_view key, std::int64_t base_ms) {
  const std::pair<std::string_view, double> sources[] = {
      {"upstream", 0.25}, {"cache", 0.5}, {"upstream", 0.125}};
  std::int64_t i = 0;
  for (const auto& [source, money] : sources) {
    UsageRecord r;
    r.ts_ms = base_ms + i * 3'600'000;  // one hour apart: groups by hour differ
    r.key = key;
    r.model = "deepseek-chat";
    r.upstream = "ds";
    r.upstream_model = "deepseek-chat";
    r.source = source;
    r.status = 200;
    r.prompt = 100 + i;
    r.completion = 7;
    r.cache_hit = 60;
    r.cache_miss = 40 + i;
    r.reasoning = 3;
    (source == "upstream" ? r.cost_usd : r.savings_usd) = money;
    l.record(r);
    ++i;
  }
}

std::vector<UsageQuery> queries() {
  std::vector<UsageQuery> out(5);
  out[1].group_by = {"key", "model"};
  out[2].group_by = {"day", "hour", "source"};
  out[3].only_key = "alice";
  out[4].from_ms = 1'741'003'200'000 + 3'600'000;
  out[4].to_ms = 1'741'003'200'000 + 2 * 3'600'000;
  out[4].group_by = {"upstream"};
  return out;
}

TEST(LedgerPostgres, AnswersLikeTheSqliteFile) {
  std::string why;
  auto* pg = testing::PgServer::get(&why);
  ASSERT_NE(pg, nullptr) << why;
  config::LedgerConfig sqlite_cfg;
  sqlite_cfg.path = testing::temp_db_path("ledger-pg", "reference");
  sqlite_cfg.flush_interval = std::chrono::milliseconds(10);
  config::LedgerConfig pg_cfg = sqlite_cfg;
  pg_cfg.postgres_conninfo = pg->fresh_database();
  std::string err;
  auto file = Ledger::open(sqlite_cfg, err);
  ASSERT_TRUE(file) << err;
  auto shared = Ledger::open(pg_cfg, err);
  ASSERT_TRUE(shared) << err;
  for (auto* l : {file.get(), shared.get()}) {
    record_sample(*l, "alice", 1'741'003'200'000);
    record_sample(*l, "bob", 1'741'003'200'000 + 60'000);
  }
  for (const auto& q : queries()) {
    EXPECT_EQ(ask(*shared, q), ask(*file, q));
  }
  EXPECT_NE(ask(*shared, {}).find(R"("requests":6,)"), std::string::npos) << ask(*shared, {});
}

TEST(LedgerPostgres, EveryReplicaIsCounted) {
  std::string why;
  auto* pg = testing::PgServer::get(&why);
  ASSERT_NE(pg, nullptr) << why;
  config::LedgerConfig cfg;
  cfg.flush_interval = std::chrono::milliseconds(10);
  cfg.postgres_conninfo = pg->fresh_database();
  std::string err;
  auto a = Ledger::open(cfg, err);
  auto b = Ledger::open(cfg, err);
  ASSERT_TRUE(a && b) << err;
  record_sample(*a, "alice", 1'741'003'200'000);
  record_sample(*b, "alice", 1'741'003'200'000);  // same groups, other replica: summed, not merged away
  ask(*a, {});                                    // each query writes that ledger's pending totals first
  ask(*b, {});
  const std::string total = ask(*a, {});
  EXPECT_NE(total.find(R"("requests":6,)"), std::string::npos) << total;
  EXPECT_EQ(total, ask(*b, {}));
  b.reset();
  config::LedgerConfig bad = cfg;
  bad.postgres_conninfo = pg->conninfo("no_such_database");
  EXPECT_FALSE(Ledger::open(bad, err));
  EXPECT_NE(err.find("ledger (PostgreSQL)"), std::string::npos) << err;
}

bool apply_once(Ledger& l, std::vector<OnceRecord> records) {
  std::promise<bool> p;
  l.record_once(std::move(records), [&p](bool ok) { p.set_value(ok); });
  return p.get_future().get();
}

// Two replicas feeding overlapping lines at the same moment (each as its own thread's transaction): every id
// is counted once, with the same SQL semantics as the SQLite file (ledger_once_test.cc).
TEST(LedgerPostgres, OnceOnlyRecordsAreCountedOnceAcrossReplicas) {
  std::string why;
  auto* pg = testing::PgServer::get(&why);
  ASSERT_NE(pg, nullptr) << why;
  config::LedgerConfig cfg;
  cfg.flush_interval = std::chrono::hours(1);
  cfg.postgres_conninfo = pg->fresh_database();
  std::string err;
  auto a = Ledger::open(cfg, err);
  auto b = Ledger::open(cfg, err);
  ASSERT_TRUE(a && b) << err;
  auto lines = [](int from, int to) {
    std::vector<OnceRecord> out;
    for (int i = from; i < to; ++i) {
      UsageRecord r;
      r.ts_ms = 1'741'003'200'000 + i * 10;
      r.key = "alice";
      r.source = "upstream";
      r.status = 200;
      r.prompt = 1;
      r.cost_usd = 0.5;
      out.push_back(once_record("batch_pg/" + std::to_string(i), r));
    }
    out.push_back(out.front());  // an id twice in one call
    return out;
  };
  for (int round = 0; round < 3; ++round) {  // the same ids again: nothing more
    auto on_a = std::async(std::launch::async, [&] { return apply_once(*a, lines(0, 700)); });
    auto on_b = std::async(std::launch::async, [&] { return apply_once(*b, lines(300, 1000)); });
    EXPECT_TRUE(on_a.get());
    EXPECT_TRUE(on_b.get());
  }
  const std::string total = ask(*a, {});
  EXPECT_NE(total.find(R"("requests":1000,)"), std::string::npos) << total;
  EXPECT_NE(total.find(R"("prompt_tokens":1000,)"), std::string::npos) << total;
  EXPECT_NE(total.find(R"("cost_usd":500.000000000)"), std::string::npos) << total;
}

}  // namespace
}  // namespace sluice::ledger
