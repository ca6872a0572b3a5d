#pragma once
// What a provider's response says about the limits of the API key it was sent with: the OpenAI-style
// x-ratelimit-{limit,remaining,reset}-{requests,tokens} headers, Retry-After and retry-after-ms.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

#include "common/function_ref.h"

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

// `header(name)` returns the value of a response header, empty when absent.
RateSignals parse_rate_signals(FunctionRef<std::string_view(std::string_view)> header);

// A reset duration as providers write it: "20ms", "1s", "1.5s", "6m0s", "1h2m3s", or bare seconds ("0.5").
std::optional<std::chrono::milliseconds> parse_reset_duration(std::string_view v);

}  // namespace sluice::routing
