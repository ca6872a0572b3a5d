// The ledger as a traffic source: the observed period priced minute by minute (equal to what the gateway
// recorded at the same prices, windows included) and the typical week built from it.
#include "plan/ledger_profile.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>

#include "ledger/ledger.h"
#include "ledger/pricing.h"
#include "plan/costs.h"
#include "plan/week.h"

namespace sluice::plan {
namespace {

constexpr std::int64_t kMonday20240101 = 1704067200;  // 2024-01-01 00:00 UTC, a Monday

config::Price discounted() {
  // DeepSeek's shape: off-peak 16:30-00:30 UTC at half price.
  return config::Price{0.07, 0.27, 1.10, {{16 * 60 + 30, 30}}, false, false, 0.5};
}

LedgerMinute minute_row(std::int64_t unix_minute, std::string source, std::int64_t requests, std::int64_t hit,
                        std::int64_t miss, std::int64_t completion, double cost) {
  LedgerMinute r;
  r.minute = unix_minute;
  r.model = "m";
  r.source = std::move(source);
  r.requests = requests;
  r.prompt = hit + miss;
  r.cache_hit = hit;
  r.cache_miss = miss;
  r.completion = completion;
  r.cost_usd = cost;
  return r;
}

TEST(PlanLedgerProfile, MinuteOfWeek) {
  EXPECT_EQ(minute_of_week(kMonday20240101 / 60), 0);
  EXPECT_EQ(minute_of_week(kMonday20240101 / 60 + 12 * 60 + 5), 725);
  EXPECT_EQ(minute_of_week(kMonday20240101 / 60 - 1), kMinutesPerWeek - 1);  // Sunday 23:59
  EXPECT_EQ(minute_of_week(0), 3 * 24 * 60);                                 // 1970-01-01 was a Thursday
  EXPECT_EQ(minute_of_week(-1), 3 * 24 * 60 - 1);
  EXPECT_EQ(hour_label(0), "Mon 00:00");
  EXPECT_EQ(hour_label(24 * 6 + 23), "Sun 23:00");
}

TEST(PlanLedgerProfile, ObservedCostIsPricedMinuteByMinute) {
  const std::map<std::string, config::Price> pricing{{"m", discounted()}};
  const std::int64_t noon = kMonday20240101 / 60 + 12 * 60;
  const std::int64_t evening = kMonday20240101 / 60 + 17 * 60;  // off-peak
  // Hand-priced: noon 1000 hit, 2000 miss, 500 out at full price; evening the same at half.
  const double full = (1000 * 0.07 + 2000 * 0.27 + 500 * 1.10) / 1e6;
  std::vector<LedgerMinute> rows{minute_row(noon, "upstream", 10, 1000, 2000, 500, full),
                                 minute_row(evening, "upstream", 10, 1000, 2000, 500, full / 2),
                                 minute_row(evening, "cache", 4, 0, 0, 0, 0)};
  LedgerMinute failed = minute_row(noon, "upstream", 2, 0, 0, 0, 0);
  failed.ok = false;
  rows.push_back(failed);
  const Profile p = profile_from_minutes(rows, {}, pricing, 0.25);
  ASSERT_TRUE(p.observed);
  const Observed& o = *p.observed;
  EXPECT_NEAR(o.api_cost_usd, full * 1.5, 1e-15);
  EXPECT_NEAR(o.ledger_cost_usd, full * 1.5, 1e-15);
  EXPECT_EQ(o.upstream_requests, 20);
  EXPECT_EQ(o.failed_requests, 2);
  EXPECT_EQ(o.cached_requests, 4);
  EXPECT_EQ(o.tokens.completion, 1000);
  EXPECT_EQ(o.from_ms, noon * 60000);
  EXPECT_EQ(o.to_ms, (evening + 1) * 60000);
  EXPECT_NEAR(o.hours, 301 / 60.0, 1e-12);
  ASSERT_EQ(p.models.size(), 1u);
  EXPECT_EQ(p.models[0].deferrable_share, 0.25);
  // Hour 12 was covered for all its 60 minutes: as recorded, at peak price.
  EXPECT_EQ(p.models[0].hours[12].peak.requests, 10);
  EXPECT_EQ(p.models[0].hours[12].off_peak.requests, 0);
  // Hour 17 was covered for one minute: scaled to a full hour, off-peak.
  EXPECT_EQ(p.models[0].hours[17].off_peak.requests, 600);
  EXPECT_EQ(p.models[0].hours[17].cached_requests, 240);
  // Hours outside the period are filled, and the profile says so.
  EXPECT_GT(p.models[0].hours[3].total().requests, 0);
  ASSERT_FALSE(p.notes.empty());
  EXPECT_NE(p.notes[0].find("outside it"), std::string::npos);
}

TEST(PlanLedgerProfile, AWholeWeekIsTheTypicalWeek) {
  const std::map<std::string, config::Price> pricing{{"m", discounted()}};
  const std::int64_t start = kMonday20240101 / 60;
  std::vector<LedgerMinute> rows;
  double cost = 0;
  for (int h = 0; h < kHoursPerWeek; ++h) {
    const std::int64_t m = start + h * 60 + 7;
    const auto t = static_cast<std::time_t>(m * 60);
    openai::Usage u;
    u.prompt_cache_hit_tokens = 100 + h;
    u.prompt_cache_miss_tokens = 300;
    u.completion_tokens = 50;
    const double c = ledger::cost_usd(pricing.at("m"), u, t);
    cost += c;
    rows.push_back(minute_row(m, "upstream", 1 + h % 5, 100 + h, 300, 50, c));
  }
  // Gateway-cache answers in the week's first and last minutes: the period is exactly one week.
  rows.push_back(minute_row(start, "cache", 1, 0, 0, 0, 0));
  rows.push_back(minute_row(start + kMinutesPerWeek - 1, "cache", 1, 0, 0, 0, 0));
  const Profile p = profile_from_minutes(rows, {}, pricing, 0);
  EXPECT_TRUE(p.notes.empty());
  // The week's API cost at hour resolution equals the ledger's.
  double week = 0;
  for (const auto& hour : p.models[0].hours) {
    week += api_cost(pricing.at("m"), hour);
  }
  EXPECT_NEAR(week, cost, 1e-12);
  EXPECT_NEAR(p.observed->api_cost_usd, cost, 1e-12);
  EXPECT_NEAR(p.observed->hours, 168, 1e-12);
}

TEST(PlanLedgerProfile, ReadsARealLedgerFile) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("sluice-plan-ledger-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "ledger.db").string();
  const std::map<std::string, config::Price> pricing{{"deepseek-chat", discounted()}};
  double recorded = 0;
  {
    config::LedgerConfig cfg;
    cfg.path = path;
    cfg.flush_interval = std::chrono::milliseconds(10);
    std::string err;
    auto l = ledger::Ledger::open(cfg, err);
    ASSERT_TRUE(l) << err;
    // Requests every 7 minutes across a day, through both windows.
    for (int i = 0; i < 200; ++i) {
      ledger::UsageRecord r;
      r.ts_ms = (kMonday20240101 + i * 7 * 60 + i % 60) * 1000;
      r.model = "deepseek-chat";
      r.upstream = "ds";
      r.upstream_model = "deepseek-chat";
      r.source = i % 10 == 0 ? "cache" : "upstream";
      r.status = 200;
      r.prompt = 1000 + i;
      r.cache_hit = 400;
      r.cache_miss = 600 + i;
      r.completion = 100 + i % 13;
      openai::Usage u{r.prompt, r.completion, r.prompt + r.completion, r.cache_hit, r.cache_miss, 0};
      const double c =
          ledger::cost_usd(pricing, "deepseek-chat", u, static_cast<std::time_t>(r.ts_ms / 1000));
      (r.source == "upstream" ? r.cost_usd : r.savings_usd) = c;
      recorded += r.source == "upstream" ? c : 0;
      l->record(r);
    }
  }
  std::string error;
  auto p = read_ledger(path, pricing, 0.1, error);
  ASSERT_TRUE(p) << error;
  ASSERT_TRUE(p->observed);
  EXPECT_NEAR(p->observed->ledger_cost_usd, recorded, 1e-12);
  EXPECT_NEAR(p->observed->api_cost_usd, recorded, 1e-12);
  EXPECT_EQ(p->observed->upstream_requests, 180);
  EXPECT_EQ(p->observed->cached_requests, 20);
  EXPECT_GT(p->models[0].prompt_p99, 1000);
  // Another price card gives another cost (the planner reprices; it does not copy the ledger's numbers).
  auto cheaper = pricing;
  cheaper["deepseek-chat"].off_peak_multiplier = 0.25;
  auto q = read_ledger(path, cheaper, 0.1, error);
  ASSERT_TRUE(q);
  EXPECT_LT(q->observed->api_cost_usd, recorded - 1e-6);

  // Not a ledger, no file.
  const std::string other = (dir / "other.db").string();
  sqlite3* db = nullptr;
  sqlite3_open(other.c_str(), &db);
  sqlite3_exec(db, "CREATE TABLE t (x)", nullptr, nullptr, nullptr);
  sqlite3_close(db);
  EXPECT_FALSE(read_ledger(other, pricing, 0, error));
  EXPECT_EQ(error, "not a sluice ledger (no usage table)");
  EXPECT_FALSE(read_ledger((dir / "missing.db").string(), pricing, 0, error));
  EXPECT_NE(error.find("cannot open ledger"), std::string::npos);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace sluice::plan
