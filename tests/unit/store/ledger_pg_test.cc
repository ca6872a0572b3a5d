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

}  // namespace
}  // namespace sluice::ledger
