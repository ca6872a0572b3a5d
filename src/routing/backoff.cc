#include "routing/backoff.h"

#include <algorithm>
#include <charconv>

namespace sluice::routing {

Ms full_jitter(const BackoffPolicy& p, unsigned retry, std::mt19937_64& rng) {
  std::int64_t ceiling = p.base.count();
  for (unsigned i = 0; i < retry && ceiling < p.cap.count(); ++i) {
    ceiling *= 2;
  }
  ceiling = std::min<std::int64_t>(ceiling, p.cap.count());
  if (ceiling <= 0) {
    return Ms{0};
  }
  std::uniform_int_distribution<std::int64_t> d(0, ceiling);
  return Ms{d(rng)};
}

Ms retry_after_jitter(Ms after, std::mt19937_64& rng) {
  if (after.count() <= 0) {
    return Ms{0};
  }
  std::uniform_int_distribution<std::int64_t> d(after.count(), after.count() + after.count() / 2);
  return Ms{d(rng)};
}

std::optional<Ms> parse_retry_after(std::string_view v) {
  while (!v.empty() && v.front() == ' ') {
    v.remove_prefix(1);
  }
  while (!v.empty() && v.back() == ' ') {
    v.remove_suffix(1);
  }
  if (v.empty() || v.size() > 16) {
    return std::nullopt;
  }
  double seconds = 0;
  auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), seconds);
  if (ec != std::errc{} || ptr != v.data() + v.size() || seconds < 0 || seconds > 86400) {
    return std::nullopt;
  }
  return Ms{static_cast<std::int64_t>(seconds * 1000.0)};
}

std::optional<Ms> fit_before_deadline(Ms delay, Ms remaining, Ms min_attempt) {
  if (delay + min_attempt > remaining) {
    return std::nullopt;
  }
  return delay;
}

}  // namespace sluice::routing
