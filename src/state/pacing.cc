#include "state/pacing.h"

#include <fmt/format.h>

#include <charconv>

namespace sluice::state {

std::string PacingObservation::encode() const {
  return fmt::format("{},{},{},{},{},{},{},{}", observed_ms, limit, remaining, reset_ms, tokens_remaining,
                     tokens_reset_ms, blocked_ms, disabled_ms);
}

PacingObservation PacingObservation::decode(std::string_view s) {
  PacingObservation o;
  std::int64_t* fields[] = {&o.observed_ms,      &o.limit,           &o.remaining,  &o.reset_ms,
                            &o.tokens_remaining, &o.tokens_reset_ms, &o.blocked_ms, &o.disabled_ms};
  for (std::int64_t* f : fields) {
    const auto comma = s.find(',');
    const std::string_view part = s.substr(0, comma);
    auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), *f);
    if (ec != std::errc() || end != part.data() + part.size()) {
      return {};
    }
    s = comma == std::string_view::npos ? std::string_view{} : s.substr(comma + 1);
  }
  return o;
}

}  // namespace sluice::state
