// The `cache`, `ledger` and `pricing` sections: response cache, usage ledger and the price table.
#include <fmt/format.h>

#include <charconv>
#include <cmath>

#include "config/loader_internal.h"

namespace sluice::config::detail {

std::optional<double> number(Reader& r, const Field& f, double max) {
  const YAML::Node& v = f.value;
  double d = 0;
  bool ok = false;
  if (v.IsScalar() && v.Tag() != "!") {
    const std::string& s = v.Scalar();
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
    ok = ec == std::errc() && end == s.data() + s.size() && std::isfinite(d);
  }
  if (!ok) {
    r.error(f.value_line(), f.path, "expected a number, got " + describe(v));
    return std::nullopt;
  }
  if (d < 0 || d > max) {
    r.error(f.value_line(), f.path, fmt::format("must be between 0 and {:g}", max));
    return std::nullopt;
  }
  return d;
}

std::optional<int> clock_minutes(std::string_view s) {
  if (s.size() != 5 || s[2] != ':') {
    return std::nullopt;
  }
  int h = 0, m = 0;
  auto [e1, c1] = std::from_chars(s.data(), s.data() + 2, h);
  auto [e2, c2] = std::from_chars(s.data() + 3, s.data() + 5, m);
  if (c1 != std::errc() || c2 != std::errc() || e1 != s.data() + 2 || e2 != s.data() + 5 || h > 24 ||
      m > 59 || (h == 24 && m != 0)) {
    return std::nullopt;
  }
  return h * 60 + m;
}

namespace {
constexpr std::array<std::string_view, 8> kCacheKeys{
    "enabled",   "max_bytes", "max_entry_bytes",        "ttl",
    "stale_ttl", "coalesce",  "cache_nondeterministic", "opt_in_keys"};
constexpr std::array<std::string_view, 4> kLedgerKeys{"enabled", "path", "flush_interval", "admin_key_env"};
constexpr std::array<std::string_view, 7> kPriceKeys{
    "input_cache_hit", "input_cache_miss",   "output", "off_peak", "peak",
    "weekdays_only",   "off_peak_multiplier"};

void load_windows(Reader& r, const Field& f, Price& p) {
  if (!f.value.IsSequence()) {
    r.error(f.value_line(), f.path, "expected a list of \"HH:MM-HH:MM\" (UTC), got " + describe(f.value));
    return;
  }
  for (std::size_t i = 0; i < f.value.size(); ++i) {
    const YAML::Node& n = f.value[i];
    std::string path = index_path(f.path, i);
    std::string s = n.IsScalar() ? n.Scalar() : "";
    auto dash = s.find('-');
    std::optional<int> a, b;
    if (dash != std::string::npos) {
      a = clock_minutes(std::string_view(s).substr(0, dash));
      b = clock_minutes(std::string_view(s).substr(dash + 1));
    }
    if (!a || !b || *a == *b) {
      r.error(line_of(n), path, "expected \"HH:MM-HH:MM\" (UTC, start != end), got " + describe(n));
      continue;
    }
    p.windows.emplace_back(*a, *b);
  }
}

void load_cache(Reader& r, const Field& field, CacheConfig& c) {
  auto m = r.map(field, kCacheKeys);
  if (!m) {
    return;
  }
  if (const Field* f = m->find("enabled")) {
    c.enabled = r.boolean(*f).value_or(c.enabled);
  }
  if (const Field* f = m->find("max_bytes")) {
    c.max_bytes = r.size(*f).value_or(c.max_bytes);
  }
  if (const Field* f = m->find("max_entry_bytes")) {
    c.max_entry_bytes = r.size(*f).value_or(c.max_entry_bytes);
  }
  if (const Field* f = m->find("ttl")) {
    c.ttl = r.duration(*f, false).value_or(c.ttl);
  }
  if (const Field* f = m->find("stale_ttl")) {
    c.stale_ttl = r.duration(*f, true).value_or(c.stale_ttl);
  }
  if (const Field* f = m->find("coalesce")) {
    c.coalesce = r.boolean(*f).value_or(c.coalesce);
  }
  if (const Field* f = m->find("cache_nondeterministic")) {
    c.cache_nondeterministic = r.boolean(*f).value_or(c.cache_nondeterministic);
  }
  if (const Field* f = m->find("opt_in_keys")) {
    if (!f->value.IsSequence()) {
      r.error(f->value_line(), f->path, "expected a list of key names, got " + describe(f->value));
    } else {
      for (std::size_t i = 0; i < f->value.size(); ++i) {
        const YAML::Node& n = f->value[i];
        if (!n.IsScalar() || n.Scalar().empty()) {
          r.error(line_of(n), index_path(f->path, i), "expected a key name, got " + describe(n));
        } else {
          c.opt_in_keys.push_back(n.Scalar());
        }
      }
    }
  }
  if (c.max_entry_bytes > c.max_bytes) {
    r.error(field.value_line(), join_path(field.path, "max_entry_bytes"), "must not exceed cache.max_bytes");
  }
}

void load_ledger(Reader& r, const Field& field, LedgerConfig& l) {
  auto m = r.map(field, kLedgerKeys);
  if (!m) {
    return;
  }
  if (const Field* f = m->find("enabled")) {
    l.enabled = r.boolean(*f).value_or(l.enabled);
  }
  if (const Field* f = m->find("path")) {
    l.path = r.string(*f).value_or(l.path);
  }
  if (const Field* f = m->find("flush_interval")) {
    l.flush_interval = r.duration(*f, false).value_or(l.flush_interval);
  }
  if (const Field* f = m->find("admin_key_env")) {
    l.admin_key_env = r.env_name(*f).value_or(l.admin_key_env);
  }
}

}  // namespace

void load_pricing(Reader& r, const Field& field, std::map<std::string, Price>& out) {
  auto models = r.map(field, {});
  if (!models) {
    return;
  }
  for (const Field& mf : models->fields) {
    auto m = r.map(mf, kPriceKeys);
    if (!m) {
      continue;
    }
    Price p;
    constexpr double kMaxPrice = 1e6;
    for (auto [key, dst] :
         {std::pair{"input_cache_hit", &p.input_cache_hit},
          std::pair{"input_cache_miss", &p.input_cache_miss}, std::pair{"output", &p.output}}) {
      if (const Field* f = r.require(*m, key)) {
        *dst = number(r, *f, kMaxPrice).value_or(0);
      }
    }
    const Field* off = m->find("off_peak");
    const Field* peak = m->find("peak");
    if (off && peak) {
      r.error(peak->key_line, peak->path, "set either off_peak or peak windows, not both");
    } else if (off || peak) {
      p.windows_are_peak = peak != nullptr;
      load_windows(r, off ? *off : *peak, p);
      const Field* mult = r.require(*m, "off_peak_multiplier");
      if (mult) {
        p.off_peak_multiplier = number(r, *mult, 1.0).value_or(1.0);
      }
    }
    if (const Field* f = m->find("weekdays_only")) {
      p.weekdays_only = r.boolean(*f).value_or(false);
    }
    out.emplace(mf.key, std::move(p));
  }
}

void load_cache_sections(Reader& r, const FieldMap& top, Config& cfg) {
  if (const Field* f = top.find("cache")) {
    load_cache(r, *f, cfg.cache);
  }
  if (const Field* f = top.find("ledger")) {
    load_ledger(r, *f, cfg.ledger);
  }
  if (const Field* f = top.find("pricing")) {
    load_pricing(r, *f, cfg.pricing);
  }
  if (auto key = r.env(cfg.ledger.admin_key_env)) {
    cfg.ledger.admin_key = *key;
  }
}

}  // namespace sluice::config::detail
