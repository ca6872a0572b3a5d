// Deferral: water-filling, moving the deferrable share into off-peak windows (API) or quieter hours.
#include "plan/defer.h"

#include <gtest/gtest.h>

#include "plan/costs.h"
#include "plan/week.h"

namespace sluice::plan {
namespace {

TEST(PlanDefer, WaterFillRaisesTheLowestFirst) {
  // Levels 1, 3, 2 and 2 to pour: the final level is 2.5; index 0 takes 1.5, index 2 takes 0.5.
  const auto s = water_fill({1, 3, 2}, {0, 1, 2}, 2);
  EXPECT_NEAR(s[0], 0.75, 1e-12);
  EXPECT_NEAR(s[1], 0.0, 1e-12);
  EXPECT_NEAR(s[2], 0.25, 1e-12);
  // Enough to cover everything: all end level.
  const auto all = water_fill({1, 3, 2}, {0, 1, 2}, 6);  // level 4: takes 3, 1, 2
  EXPECT_NEAR(all[0], 0.5, 1e-12);
  EXPECT_NEAR(all[1], 1.0 / 6, 1e-12);
  EXPECT_NEAR(all[2], 1.0 / 3, 1e-12);
  // Only listed indices take any.
  const auto some = water_fill({0, 0, 0}, {2}, 5);
  EXPECT_EQ(some[0], 0.0);
  EXPECT_EQ(some[2], 1.0);
}

// Off-peak 18:00-24:00 UTC at half price.
std::map<std::string, config::Price> evening_discount() {
  return {{"m", config::Price{0, 1.0, 2.0, {{18 * 60, 24 * 60}}, false, false, 0.5}}};
}

Profile noon_burst(double deferrable) {
  Profile p;
  ModelProfile m;
  m.name = "m";
  m.deferrable_share = deferrable;
  m.hours[12].peak = Tokens{100, 0, 100'000, 50'000};  // Monday 12:00
  p.models.push_back(m);
  return p;
}

const auto kByRequests = [](const Tokens& t) { return t.requests; };
const auto kOffPeak = [](const std::string&) { return DeferTarget::kOffPeak; };
const auto kValleys = [](const std::string&) { return DeferTarget::kValleys; };

TEST(PlanDefer, ApiShareMovesIntoOffPeakWindowsInReach) {
  const auto pricing = evening_discount();
  const Profile in = noon_burst(0.4);
  const Profile out = defer(in, pricing, 12, kOffPeak, kByRequests);
  const auto& h = out.models[0].hours;
  EXPECT_NEAR(h[12].peak.requests, 60, 1e-9);
  double moved = 0;
  for (int i = 18; i < 24; ++i) {
    moved += h[static_cast<std::size_t>(i)].off_peak.requests;
    EXPECT_NEAR(h[static_cast<std::size_t>(i)].off_peak.requests, 40.0 / 6, 1e-9);  // spread evenly
  }
  EXPECT_NEAR(moved, 40, 1e-9);
  EXPECT_NEAR(out.week_requests(), in.week_requests(), 1e-9);
  // Cost: 60 % at full price, 40 % at half: 0.8 of the undeferred cost.
  const double before = api_cost(pricing.at("m"), in.models[0].hours[12]);
  double after = 0;
  for (const auto& hour : h) {
    after += api_cost(pricing.at("m"), hour);
  }
  EXPECT_NEAR(after, before * 0.8, 1e-9);
  // Out of reach (the window opens 6 h later): nothing moves.
  const Profile near = defer(in, pricing, 5, kOffPeak, kByRequests);
  EXPECT_NEAR(near.models[0].hours[12].peak.requests, 100, 1e-9);
}

TEST(PlanDefer, ValleysTakeWorkOnlyWhereItIsQuieter) {
  Profile p;
  ModelProfile m;
  m.name = "m";
  m.deferrable_share = 0.5;
  m.hours[0].peak = Tokens{100, 0, 0, 0};
  m.hours[1].peak = Tokens{20, 0, 0, 0};
  m.hours[2].peak = Tokens{60, 0, 0, 0};
  p.models.push_back(m);
  const Profile out = defer(p, {}, 2, kValleys, kByRequests);
  const auto& h = out.models[0].hours;
  // Hour 0 offers 50 to hours 0-2 (levels 50, 20, 60): the level becomes 60 → 10 stay, 40 go to hour 1.
  // Hour 1 then offers its own 10 (half of its 20) to hours 1-3 (50, 60, 0): all go to hour 3. Hour 2
  // offers 30 to hours 2-4 (30, 10, 0): level 20 → 10 to hour 3, 20 to hour 4.
  EXPECT_NEAR(h[0].total().requests, 60, 1e-9);
  EXPECT_NEAR(h[1].total().requests, 50, 1e-9);
  EXPECT_NEAR(h[2].total().requests, 30, 1e-9);
  EXPECT_NEAR(h[3].total().requests, 20, 1e-9);
  EXPECT_NEAR(h[4].total().requests, 20, 1e-9);
  EXPECT_NEAR(out.week_requests(), 180, 1e-9);
  double peak = 0;
  for (const auto& hour : h) {
    peak = std::max(peak, hour.total().requests);
  }
  EXPECT_LE(peak, 60 + 1e-9);  // the peak fell from 100
  // Nothing deferrable: unchanged.
  p.models[0].deferrable_share = 0;
  EXPECT_NEAR(defer(p, {}, 2, kValleys, kByRequests).models[0].hours[0].total().requests, 100, 1e-9);
}

}  // namespace
}  // namespace sluice::plan
