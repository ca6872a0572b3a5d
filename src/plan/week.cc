#include "plan/week.h"

#include <fmt/format.h>

#include "ledger/pricing.h"

namespace sluice::plan {

namespace {
constexpr std::int64_t kThursdayOffsetMin = 3 * 24 * 60;  // minutes from Monday 00:00 to Thursday 00:00
constexpr std::time_t kMonday19700105 = 4 * 86400;
}  // namespace

int minute_of_week(std::int64_t unix_minute) {
  std::int64_t m = (unix_minute + kThursdayOffsetMin) % kMinutesPerWeek;
  return static_cast<int>(m < 0 ? m + kMinutesPerWeek : m);
}

std::time_t representative_time(int minute_of_week) {
  return kMonday19700105 + static_cast<std::time_t>(minute_of_week) * 60;
}

std::array<double, kHoursPerWeek> off_peak_shares(const config::Price& price) {
  std::array<double, kHoursPerWeek> out{};
  for (int h = 0; h < kHoursPerWeek; ++h) {
    int off = 0;
    for (int m = 0; m < 60; ++m) {
      off += ledger::is_off_peak(price, representative_time(h * 60 + m)) ? 1 : 0;
    }
    out[static_cast<std::size_t>(h)] = off / 60.0;
  }
  return out;
}

std::string hour_label(int hour_of_week) {
  static constexpr const char* kDays[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
  return fmt::format("{} {:02d}:00", kDays[(hour_of_week / 24) % 7], hour_of_week % 24);
}

void add_spread(HourLoad& hour, const Tokens& t, double off_peak_share) {
  hour.peak.add(t, 1.0 - off_peak_share);
  hour.off_peak.add(t, off_peak_share);
}

}  // namespace sluice::plan
