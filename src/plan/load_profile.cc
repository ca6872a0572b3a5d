// A YAML traffic profile: per model, requests/s for each hour of the week (one day repeated, weekdays and
// weekend, or all 168 hours), prompt and completion sizes, the prompt-cache hit share and the share of
// requests that can wait.
#include <fmt/format.h>

#include <array>

#include "plan/load_common.h"
#include "plan/week.h"

namespace sluice::plan {

namespace {
using detail::Field;
using detail::FieldMap;
using detail::Reader;

constexpr std::array<std::string_view, 1> kProfileTopKeys{"models"};
constexpr std::array<std::string_view, 5> kProfileModelKeys{
    "requests_per_s", "prompt_tokens", "completion_tokens", "cache_hit_share", "deferrable_share"};
constexpr std::array<std::string_view, 4> kRequestRateKeys{"hourly", "weekdays", "weekend", "week"};
constexpr std::array<std::string_view, 2> kTokenSizeKeys{"mean", "p99"};
constexpr double kMaxRequestRate = 1e7;
constexpr double kMaxTokenCount = 1e7;

struct TokenSize {
  double mean = 0;
  double p99 = 0;
};

// A list of exactly `n` non-negative numbers.
std::optional<std::vector<double>> rate_list(Reader& r, const Field& f, std::size_t n) {
  if (!f.value.IsSequence() || f.value.size() != n) {
    r.error(f.value_line(), f.path,
            fmt::format("expected a list of {} numbers (requests/s), got {}", n,
                        f.value.IsSequence() ? fmt::format("{} values", f.value.size())
                                             : config::detail::describe(f.value)));
    return std::nullopt;
  }
  std::vector<double> out;
  bool ok = true;
  for (std::size_t i = 0; i < n; ++i) {
    const Field item{f.key, config::detail::index_path(f.path, i), f.key_line, f.value[i]};
    auto v = config::detail::number(r, item, kMaxRequestRate);
    ok = ok && v.has_value();
    out.push_back(v.value_or(0));
  }
  return ok ? std::optional(out) : std::nullopt;
}

// requests/s for each of the 168 hours.
std::optional<std::array<double, kHoursPerWeek>> load_rates(Reader& r, const Field& field) {
  auto m = r.map(field, kRequestRateKeys);
  if (!m) {
    return std::nullopt;
  }
  std::array<double, kHoursPerWeek> out{};
  const Field* hourly = m->find("hourly");
  const Field* weekdays = m->find("weekdays");
  const Field* weekend = m->find("weekend");
  const Field* week = m->find("week");
  const int forms = (hourly ? 1 : 0) + (weekdays || weekend ? 1 : 0) + (week ? 1 : 0);
  if (forms != 1) {
    r.error(field.key_line, field.path,
            "set exactly one of: hourly (24 values), weekdays + weekend (24 each), week (168)");
    return std::nullopt;
  }
  if (week) {
    auto v = rate_list(r, *week, kHoursPerWeek);
    if (!v) {
      return std::nullopt;
    }
    std::copy(v->begin(), v->end(), out.begin());
    return out;
  }
  if (hourly) {
    auto v = rate_list(r, *hourly, 24);
    if (!v) {
      return std::nullopt;
    }
    for (int h = 0; h < kHoursPerWeek; ++h) {
      out[static_cast<std::size_t>(h)] = (*v)[static_cast<std::size_t>(h % 24)];
    }
    return out;
  }
  if (!weekdays || !weekend) {
    r.error(field.key_line, field.path, "weekdays and weekend go together (24 values each)");
    return std::nullopt;
  }
  auto wd = rate_list(r, *weekdays, 24);
  auto we = rate_list(r, *weekend, 24);
  if (!wd || !we) {
    return std::nullopt;
  }
  for (int h = 0; h < kHoursPerWeek; ++h) {
    const auto& day = h / 24 < 5 ? *wd : *we;
    out[static_cast<std::size_t>(h)] = day[static_cast<std::size_t>(h % 24)];
  }
  return out;
}

// {mean, p99} or one number (every request that size).
std::optional<TokenSize> load_token_size(Reader& r, const Field& field) {
  if (field.value.IsScalar()) {
    auto v = config::detail::number(r, field, kMaxTokenCount);
    return v ? std::optional(TokenSize{*v, *v}) : std::nullopt;
  }
  auto m = r.map(field, kTokenSizeKeys);
  if (!m) {
    return std::nullopt;
  }
  TokenSize s;
  const Field* mean = r.require(*m, "mean");
  if (!mean) {
    return std::nullopt;
  }
  auto v = config::detail::number(r, *mean, kMaxTokenCount);
  if (!v) {
    return std::nullopt;
  }
  s.mean = s.p99 = *v;
  if (const Field* p99 = m->find("p99")) {
    auto p = config::detail::number(r, *p99, kMaxTokenCount);
    if (p && *p < s.mean) {
      r.error(p99->value_line(), p99->path, "must not be below mean");
      return std::nullopt;
    }
    s.p99 = p.value_or(s.mean);
  }
  return s;
}

void load_profile_model(Reader& r, const Field& field, const config::Price& price, ModelProfile& out) {
  auto m = r.map(field, kProfileModelKeys);
  if (!m) {
    return;
  }
  std::optional<std::array<double, kHoursPerWeek>> rates;
  std::optional<TokenSize> prompt;
  std::optional<TokenSize> completion;
  if (const Field* f = r.require(*m, "requests_per_s")) {
    rates = load_rates(r, *f);
  }
  if (const Field* f = r.require(*m, "prompt_tokens")) {
    prompt = load_token_size(r, *f);
  }
  if (const Field* f = r.require(*m, "completion_tokens")) {
    completion = load_token_size(r, *f);
  }
  double hit_share = 0;
  if (const Field* f = m->find("cache_hit_share")) {
    hit_share = config::detail::number(r, *f, 1.0).value_or(0);
  }
  if (const Field* f = m->find("deferrable_share")) {
    out.deferrable_share = config::detail::number(r, *f, 1.0).value_or(0);
  }
  if (!rates || !prompt || !completion) {
    return;
  }
  out.prompt_p99 = prompt->p99;
  out.completion_p99 = completion->p99;
  const auto shares = off_peak_shares(price);
  for (int h = 0; h < kHoursPerWeek; ++h) {
    const auto i = static_cast<std::size_t>(h);
    Tokens t;
    t.requests = (*rates)[i] * 3600.0;
    t.cache_hit = t.requests * prompt->mean * hit_share;
    t.cache_miss = t.requests * prompt->mean * (1.0 - hit_share);
    t.completion = t.requests * completion->mean;
    add_spread(out.hours[i], t, shares[i]);
  }
}

}  // namespace

std::optional<Profile> load_profile_string(const std::string& yaml, const std::string& path,
                                           const std::map<std::string, config::Price>& pricing,
                                           Diagnostics& diag) {
  const config::EnvLookup no_env;
  Reader r(path, no_env);
  Profile p;
  p.source = "profile " + path;
  if (auto root = detail::parse_document(r, yaml)) {
    if (auto top = r.map(*root, 1, "", kProfileTopKeys)) {
      if (const Field* f = r.require(*top, "models")) {
        if (auto models = r.map(*f, {})) {
          if (models->fields.empty()) {
            r.error(f->key_line, f->path, "expected at least one model");
          }
          for (const Field& mf : models->fields) {
            auto price = pricing.find(mf.key);
            if (price == pricing.end()) {
              r.error(mf.key_line, mf.path, "\"" + mf.key + "\" has no price in the plan's pricing");
              continue;
            }
            ModelProfile model;
            model.name = mf.key;
            load_profile_model(r, mf, price->second, model);
            p.models.push_back(std::move(model));
          }
        }
      }
    }
  }
  const bool ok = r.errors().empty();
  detail::collect(r, diag);
  return ok ? std::optional<Profile>(std::move(p)) : std::nullopt;
}

std::optional<Profile> load_profile(const std::string& path,
                                    const std::map<std::string, config::Price>& pricing, Diagnostics& diag) {
  const auto contents = config::detail::read_file(path);
  if (!contents.ok) {
    diag.errors.push_back({path, 0, "", "cannot read file: " + contents.error});
    return std::nullopt;
  }
  return load_profile_string(contents.data, path, pricing, diag);
}

}  // namespace sluice::plan
