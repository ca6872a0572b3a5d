#pragma once
// The closed set of ways an upstream attempt can fail, mapped in one place to the client's status and
// OpenAI error body (and, later, to metrics and retry decisions).
#include <cstdint>
#include <string_view>

namespace sluice::routing {

enum class UpstreamFailure : std::uint8_t {
  kNone = 0,
  kConnectFailed,      // refused, unreachable, DNS
  kConnectTimeout,
  kTlsHandshake,
  kFirstTokenTimeout,  // no content before the first-token deadline (keep-alive bytes do not count)
  kIdleTimeout,        // stream stalled between content chunks
  kTotalTimeout,
  kReset,              // connection closed or reset before the response completed
  kProtocolError,      // unparseable HTTP, SSE or JSON from upstream
  kEmptyResponse,      // a 200 that carried only keep-alive blank lines before closing
  kRateLimited,        // upstream 429
  kOverloaded,         // upstream 503
  kServerError,        // other upstream 5xx
  kAuthRejected,       // upstream 401/403: the provider key is wrong, not the client's
  kClientError,        // other upstream 4xx (the request itself is bad)
  kCount,
};

struct FailureInfo {
  unsigned status;           // HTTP status sluice answers with
  std::string_view name;     // stable snake_case id: logs, metrics, the error "code"
  std::string_view type;     // OpenAI error "type"
  std::string_view message;  // human text for the client
};

const FailureInfo& describe(UpstreamFailure f);
inline std::string_view to_string(UpstreamFailure f) { return describe(f).name; }

// Classifies an upstream HTTP status (>= 400) for logs, metrics and (later) retry policy.
UpstreamFailure classify_status(unsigned status);

}  // namespace sluice::routing
