#pragma once
// What a provider's response says about the limits of the API key it was sent with: the OpenAI-style
// x-ratelimit-{limit,remaining,reset}-{requests,tokens} headers, Retry-After and retry-after-ms.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace sluice::routing {

struct RateSignals {
  std::optional<std::int64_t> limit_requests;
  std::optional<std::int64_t> remaining_requests;
  std::optional<std::chrono::milliseconds> reset_requests;
  std::optional<std::int64_t> limit_tokens;
  std::optional<std::int64_t> remaining_tokens;
  std::optional<std::chrono::milliseconds> reset_tokens;
  std::optional<std::chrono::milliseconds> retry_after;  // retry-after-ms wins over retry-after
  bool any() const {
    return limit_requests || remaining_requests || reset_requests || limit_tokens || remaining_tokens ||
           reset_tokens || retry_after;
  }
};

// Reads the signals from a response's header fields in one pass: feed it every field, in order. Names
// compare case-insensitively; the first field of a name counts, as a lookup by name would find it.
class RateSignalReader {
 public:
  void field(std::string_view name, std::string_view value);
  const RateSignals& signals() const { return s_; }

 private:
  RateSignals s_;
  unsigned seen_ = 0;     // one bit per header name
  bool from_ms_ = false;  // retry_after came from retry-after-ms
};

// The signals of a range of fields with `name` and `value` members.
template <class Fields>
RateSignals parse_rate_signals(const Fields& fields) {
  RateSignalReader r;
  for (const auto& f : fields) {
    r.field(f.name, f.value);
  }
  return r.signals();
}

// A reset duration as providers write it: "20ms", "1s", "1.5s", "6m0s", "1h2m3s", or bare seconds ("0.5").
std::optional<std::chrono::milliseconds> parse_reset_duration(std::string_view v);

}  // namespace sluice::routing
