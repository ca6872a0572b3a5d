#pragma once
// The planner's week: hour 0 is Monday 00:00 UTC. Prices are looked up with the gateway's own pricing code
// (ledger/pricing.h) at a representative unix time of each minute of the week.
#include <array>
#include <cstdint>
#include <ctime>
#include <string>

#include "config/config.h"
#include "plan/profile.h"

namespace sluice::plan {

// Minute of the week of a unix minute (1970-01-01 was a Thursday).
int minute_of_week(std::int64_t unix_minute);

// A unix time falling on that minute of the week (in the week of Monday 1970-01-05).
std::time_t representative_time(int minute_of_week);

// Share of each hour's minutes that are off-peak for the price (0 everywhere without windows).
std::array<double, kHoursPerWeek> off_peak_shares(const config::Price& price);

// "Tue 14:00".
std::string hour_label(int hour_of_week);

// Splits `t` (spread evenly over hour h) into the hour's peak and off-peak parts for the price.
void add_spread(HourLoad& hour, const Tokens& t, double off_peak_share);

}  // namespace sluice::plan
