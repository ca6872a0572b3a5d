#include "ledger/ledger.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <future>

namespace sluice::ledger {
namespace {

namespace json = boost::json;

json::object query(Ledger& l, UsageQuery q) {
  std::promise<std::string> p;
  l.query(std::move(q), [&p](std::string s) { p.set_value(std::move(s)); });
  return json::parse(p.get_future().get()).as_object();
}

UsageRecord row(std::int64_t ts_ms, std::string key, std::string source, std::int64_t prompt, double cost) {
  UsageRecord r;
  r.ts_ms = ts_ms;
  r.key = std::move(key);
  r.model = "m";
  r.source = std::move(source);
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
}

}  // namespace
}  // namespace sluice::ledger
