#include "routing/rate_signals.h"

#include <charconv>
#include <cmath>

#include "common/strings.h"
#include "routing/backoff.h"

namespace sluice::routing {

namespace {
std::optional<std::int64_t> parse_int(std::string_view v) {
  while (!v.empty() && v.front() == ' ') {
    v.remove_prefix(1);
  }
  while (!v.empty() && v.back() == ' ') {
    v.remove_suffix(1);
  }
  std::int64_t n = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (v.empty() || ec != std::errc{} || p != v.data() + v.size() || n < 0) {
    return std::nullopt;
  }
  return n;
}

// One "<number><unit>" component; advances `v`. Units: h, m, s, ms; none only when `bare` (seconds).
std::optional<double> take_component(std::string_view& v, bool bare) {
  std::size_t i = 0;
  while (i < v.size() && ((v[i] >= '0' && v[i] <= '9') || v[i] == '.')) {
    ++i;
  }
  if (i == 0) {
    return std::nullopt;
  }
  double num = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + i, num);
  if (ec != std::errc{} || p != v.data() + i) {
    return std::nullopt;
  }
  v.remove_prefix(i);
  double scale = 1000;  // seconds
  if (v.starts_with("ms")) {
    scale = 1;
    v.remove_prefix(2);
  } else if (v.starts_with('h')) {
    scale = 3'600'000;
    v.remove_prefix(1);
  } else if (v.starts_with('m')) {
    scale = 60'000;
    v.remove_prefix(1);
  } else if (v.starts_with('s')) {
    v.remove_prefix(1);
  } else if (!bare) {
    return std::nullopt;
  }
  return num * scale;
}
}  // namespace

std::optional<std::chrono::milliseconds> parse_reset_duration(std::string_view v) {
  while (!v.empty() && v.front() == ' ') {
    v.remove_prefix(1);
  }
  while (!v.empty() && v.back() == ' ') {
    v.remove_suffix(1);
  }
  if (v.empty()) {
    return std::nullopt;
  }
  double total = 0;
  // A unit-less number is seconds only on its own ("0.5"); "1s2" is malformed.
  const bool bare = v.find_first_not_of("0123456789.") == std::string_view::npos;
  while (!v.empty()) {
    auto c = take_component(v, bare);
    if (!c) {
      return std::nullopt;
    }
    total += *c;
  }
  if (!std::isfinite(total) || total > 1e12) {
    return std::nullopt;
  }
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::ceil(total)));
}

void RateSignalReader::field(std::string_view name, std::string_view value) {
  // Most fields are none of these: one length check, or one character, rules them out.
  if (name.size() < 11 || (name[0] | 0x20) != (name.size() == 11 || name.size() == 14 ? 'r' : 'x')) {
    return;
  }
  auto first = [this](unsigned bit) {
    const bool fresh = (seen_ & bit) == 0;
    seen_ |= bit;
    return fresh;
  };
  if (equals_lower(name, "x-ratelimit-limit-requests")) {
    if (first(1)) s_.limit_requests = parse_int(value);
  } else if (equals_lower(name, "x-ratelimit-remaining-requests")) {
    if (first(2)) s_.remaining_requests = parse_int(value);
  } else if (equals_lower(name, "x-ratelimit-reset-requests")) {
    if (first(4)) s_.reset_requests = parse_reset_duration(value);
  } else if (equals_lower(name, "x-ratelimit-limit-tokens")) {
    if (first(8)) s_.limit_tokens = parse_int(value);
  } else if (equals_lower(name, "x-ratelimit-remaining-tokens")) {
    if (first(16)) s_.remaining_tokens = parse_int(value);
  } else if (equals_lower(name, "x-ratelimit-reset-tokens")) {
    if (first(32)) s_.reset_tokens = parse_reset_duration(value);
  } else if (equals_lower(name, "retry-after-ms")) {
    if (first(64)) {
      if (auto ms = parse_int(value)) {  // the precise one wins over retry-after, wherever it stands
        s_.retry_after = std::chrono::milliseconds(*ms);
        from_ms_ = true;
      }
    }
  } else if (equals_lower(name, "retry-after")) {
    if (first(128) && !from_ms_) {
      if (auto ra = parse_retry_after(value)) {
        s_.retry_after = std::chrono::duration_cast<std::chrono::milliseconds>(*ra);
      }
    }
  }
}

}  // namespace sluice::routing
