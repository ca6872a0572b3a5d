// Ledger rows → the observed period (priced minute by minute) and a typical week (hour-of-week means).
#include "plan/ledger_profile.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "ledger/pricing.h"
#include "plan/week.h"

namespace sluice::plan {

namespace {

// Minutes of each hour of the week inside [first, last] (unix minutes).
std::array<double, kHoursPerWeek> covered_minutes(std::int64_t first, std::int64_t last) {
  std::array<double, kHoursPerWeek> out{};
  const std::int64_t n = last - first + 1;
  const double whole_weeks = static_cast<double>(n / kMinutesPerWeek);
  out.fill(whole_weeks * 60.0);
  for (std::int64_t m = first + (n / kMinutesPerWeek) * kMinutesPerWeek; m <= last; ++m) {
    out[static_cast<std::size_t>(minute_of_week(m) / 60)] += 1.0;
  }
  return out;
}

double weighted_p99(std::vector<std::pair<double, double>> values) {  // (value, weight)
  if (values.empty()) {
    return 0;
  }
  std::sort(values.begin(), values.end());
  double total = 0;
  for (const auto& [v, w] : values) {
    total += w;
  }
  double seen = 0;
  for (const auto& [v, w] : values) {
    seen += w;
    if (seen >= 0.99 * total) {
      return v;
    }
  }
  return values.back().first;
}

const config::Price kNoPrice{};

// Hours the ledger never saw take the hour-of-day mean of the covered days, else the period's mean.
int fill_uncovered(ModelProfile& m, const std::array<double, kHoursPerWeek>& covered,
                   const config::Price& price, int& from_period) {
  const auto shares = off_peak_shares(price);
  std::array<Tokens, 24> by_hod{};
  std::array<double, 24> hod_minutes{};
  Tokens all;
  double all_minutes = 0;
  for (int h = 0; h < kHoursPerWeek; ++h) {
    const auto i = static_cast<std::size_t>(h);
    if (covered[i] > 0) {
      by_hod[i % 24].add(m.hours[i].total());
      hod_minutes[i % 24] += covered[i];
      all.add(m.hours[i].total());
      all_minutes += covered[i];
    }
  }
  int filled = 0;
  for (int h = 0; h < kHoursPerWeek; ++h) {
    const auto i = static_cast<std::size_t>(h);
    if (covered[i] > 0 || all_minutes == 0) {
      continue;
    }
    ++filled;
    const bool same_hour = hod_minutes[i % 24] > 0;
    from_period += same_hour ? 0 : 1;
    const Tokens donor =
        same_hour ? by_hod[i % 24].scaled(60.0 / hod_minutes[i % 24]) : all.scaled(60.0 / all_minutes);
    add_spread(m.hours[i], donor, shares[i]);
  }
  return filled;
}

}  // namespace

namespace {

// Adds one upstream row to the observed period (priced at its minute) and to its hour of the week.
void add_upstream_row(const LedgerMinute& r, const std::map<std::string, config::Price>& pricing,
                      Observed& obs, std::map<std::string, ModelProfile>& models) {
  (r.ok ? obs.upstream_requests : obs.failed_requests) += static_cast<double>(r.requests);
  openai::Usage u;
  u.prompt_tokens = r.prompt;
  u.completion_tokens = r.completion;
  u.prompt_cache_hit_tokens = r.cache_hit;
  u.prompt_cache_miss_tokens = r.cache_miss;
  const auto t = static_cast<std::time_t>(r.minute * 60);
  obs.api_cost_usd += ledger::cost_usd(pricing, r.model, u, t);
  const Tokens tokens{r.ok ? static_cast<double>(r.requests) : 0.0, static_cast<double>(r.cache_hit),
                      static_cast<double>(r.cache_miss), static_cast<double>(r.completion)};
  obs.tokens.add(tokens);
  auto& m = models[r.model];
  m.name = r.model;
  auto price = pricing.find(r.model);
  const bool off = price != pricing.end() && ledger::is_off_peak(price->second, t);
  auto& hour = m.hours[static_cast<std::size_t>(minute_of_week(r.minute) / 60)];
  (off ? hour.off_peak : hour.peak).add(tokens);
}

// Sums of covered hours → full-hour means; p99 sizes from the rows of this model.
void average_model(ModelProfile& m, const std::array<double, kHoursPerWeek>& covered,
                   const std::vector<LedgerSizes>& sizes) {
  for (std::size_t i = 0; i < m.hours.size(); ++i) {
    if (covered[i] > 0) {
      const double f = 60.0 / covered[i];
      m.hours[i].peak = m.hours[i].peak.scaled(f);
      m.hours[i].off_peak = m.hours[i].off_peak.scaled(f);
      m.hours[i].cached_requests *= f;
    }
  }
  std::vector<std::pair<double, double>> prompt, completion;
  for (const auto& s : sizes) {
    if (s.model == m.name) {
      prompt.emplace_back(s.prompt, s.requests);
      completion.emplace_back(s.completion, s.requests);
    }
  }
  m.prompt_p99 = weighted_p99(std::move(prompt));
  m.completion_p99 = weighted_p99(std::move(completion));
}

}  // namespace

Profile profile_from_minutes(const std::vector<LedgerMinute>& rows, const std::vector<LedgerSizes>& sizes,
                             const std::map<std::string, config::Price>& pricing, double deferrable_share) {
  Profile p;
  if (rows.empty()) {
    return p;
  }
  Observed obs;
  std::int64_t first = INT64_MAX;
  std::int64_t last = INT64_MIN;
  std::map<std::string, ModelProfile> models;
  for (const auto& r : rows) {
    first = std::min(first, r.minute);
    last = std::max(last, r.minute);
    obs.ledger_cost_usd += r.cost_usd;
    if (r.source == "upstream") {
      add_upstream_row(r, pricing, obs, models);
    } else {
      obs.cached_requests += static_cast<double>(r.requests);
    }
  }
  for (const auto& r : rows) {  // cached answers: gateway load of the model they stand in for
    if (r.source != "upstream" && models.contains(r.model)) {
      models[r.model].hours[static_cast<std::size_t>(minute_of_week(r.minute) / 60)].cached_requests +=
          static_cast<double>(r.requests);
    }
  }
  obs.from_ms = first * 60000;
  obs.to_ms = (last + 1) * 60000;
  obs.hours = static_cast<double>(last - first + 1) / 60.0;
  const auto covered = covered_minutes(first, last);
  int filled = 0;
  int from_period = 0;
  for (auto& [name, m] : models) {
    average_model(m, covered, sizes);
    auto price = pricing.find(name);
    from_period = 0;
    filled = fill_uncovered(m, covered, price == pricing.end() ? kNoPrice : price->second, from_period);
    m.deferrable_share = deferrable_share;
    if (price == pricing.end() && m.week_total().requests > 0) {
      p.notes.push_back(
          fmt::format("model \"{}\" has no price: its API cost counts as 0, as in the ledger", name));
    }
    p.models.push_back(std::move(m));
  }
  if (filled > 0) {
    p.notes.push_back(fmt::format(
        "the ledger covers {:.1f} h; {} of the week's 168 hours lie outside it and take the mean of the same "
        "hour of the day inside it{}",
        obs.hours, filled,
        from_period > 0 ? fmt::format(" ({} the mean of the whole period)", from_period) : ""));
  }
  p.observed = obs;
  return p;
}

}  // namespace sluice::plan
