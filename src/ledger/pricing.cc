#include "ledger/pricing.h"

namespace sluice::ledger {

namespace {
bool in_window(std::pair<int, int> w, int minute) {
  auto [a, b] = w;
  return a < b ? (minute >= a && minute < b) : (minute >= a || minute < b);  // b < a wraps past midnight
}
}  // namespace

bool is_off_peak(const config::Price& p, std::time_t t) {
  if (p.windows.empty()) {
    return false;
  }
  std::tm tm{};
  gmtime_r(&t, &tm);
  int minute = tm.tm_hour * 60 + tm.tm_min;
  bool weekend = tm.tm_wday == 0 || tm.tm_wday == 6;
  bool inside = false;
  for (const auto& w : p.windows) {
    inside = inside || in_window(w, minute);
  }
  if (p.weekdays_only && weekend) {
    return p.windows_are_peak;  // no peak on weekends; off-peak windows do not apply either
  }
  return p.windows_are_peak ? !inside : inside;
}

double cost_usd(const config::Price& p, const openai::Usage& u, std::time_t t) {
  double micro = double(u.prompt_cache_hit_tokens) * p.input_cache_hit +
                 double(u.prompt_cache_miss_tokens) * p.input_cache_miss +
                 double(u.completion_tokens) * p.output;
  double usd = micro / 1e6;
  return is_off_peak(p, t) ? usd * p.off_peak_multiplier : usd;
}

double cost_usd(const std::map<std::string, config::Price>& table, const std::string& upstream_model,
                const openai::Usage& u, std::time_t t) {
  auto it = table.find(upstream_model);
  return it == table.end() ? 0.0 : cost_usd(it->second, u, t);
}

}  // namespace sluice::ledger
