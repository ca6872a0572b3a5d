#include "sim/key_limits.h"

#include <fmt/format.h>

#include <charconv>

#include "common/strings.h"

namespace sluice::sim {

namespace {
std::optional<std::size_t> parse_limit(std::string_view s) {
  std::size_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size() || v == 0) {
    return std::nullopt;
  }
  return v;
}
}  // namespace

std::optional<std::string> parse_key_limits(std::string_view spec, KeyLimitSpec& out) {
  if (auto n = parse_limit(trim(spec, " "))) {
    out.default_limit = *n;
    return std::nullopt;
  }
  while (!spec.empty()) {
    auto comma = spec.find(',');
    std::string_view item = trim(spec.substr(0, comma), " ");
    spec = comma == std::string_view::npos ? std::string_view{} : spec.substr(comma + 1);
    auto eq = item.find('=');
    if (eq == std::string_view::npos || eq == 0) {
      return fmt::format("expected N or KEY=N[,KEY=N...], got '{}'", item);
    }
    auto n = parse_limit(item.substr(eq + 1));
    if (!n) {
      return fmt::format("'{}': the limit must be a positive integer", item);
    }
    std::string_view key = item.substr(0, eq);
    if (key == "*") {
      out.default_limit = *n;
    } else {
      out.per_key[std::string(key)] = *n;
    }
  }
  return std::nullopt;
}

KeyLimiter::Decision KeyLimiter::take(std::string_view key, Clock::time_point now) {
  Decision d;
  auto it = spec_.per_key.find(key);
  d.limit = it != spec_.per_key.end() ? it->second : spec_.default_limit;
  if (d.limit == 0) {
    return d;
  }
  d.limited = true;
  auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(now - start_);
  long long index = elapsed / spec_.window;
  d.reset = spec_.window * (index + 1) - elapsed;
  std::lock_guard lock(mu_);
  auto w = windows_.find(key);
  if (w == windows_.end()) {
    w = windows_.emplace(std::string(key), Window{}).first;
  }
  if (w->second.index != index) {
    w->second = Window{index, 0};
  }
  ++w->second.used;
  d.allowed = w->second.used <= d.limit;
  d.remaining = d.allowed ? d.limit - w->second.used : 0;
  return d;
}

std::string format_reset(std::chrono::milliseconds d) {
  auto ms = d.count();
  if (ms < 1000) {
    return fmt::format("{}ms", ms);
  }
  if (ms < 60'000) {
    return ms % 1000 == 0 ? fmt::format("{}s", ms / 1000) : fmt::format("{:.3f}s", double(ms) / 1000.0);
  }
  return fmt::format("{}m{}s", ms / 60'000, (ms % 60'000) / 1000);
}

}  // namespace sluice::sim
