#include "routing/failure.h"

#include <array>

namespace sluice::routing {

namespace {
constexpr std::array<FailureInfo, static_cast<std::size_t>(UpstreamFailure::kCount)> kTable{{
    {200, "none", "", ""},
    {502, "upstream_connect_failed", "upstream_error", "could not connect to the upstream provider"},
    {504, "upstream_connect_timeout", "upstream_error", "timed out connecting to the upstream provider"},
    {502, "upstream_tls_failed", "upstream_error", "TLS handshake with the upstream provider failed"},
    {504, "upstream_first_token_timeout", "upstream_error",
     "the upstream provider sent no content before the first-token deadline (it may be queueing the "
     "request)"},
    {504, "upstream_idle_timeout", "upstream_error",
     "the upstream provider stalled in the middle of the response"},
    {504, "upstream_total_timeout", "upstream_error",
     "the upstream provider did not finish before the deadline"},
    {502, "upstream_reset", "upstream_error", "the upstream provider closed the connection before finishing"},
    {502, "upstream_protocol_error", "upstream_error", "the upstream provider sent a malformed response"},
    {502, "upstream_empty_response", "upstream_error",
     "the upstream provider kept the request waiting and closed it without an answer"},
    {429, "upstream_rate_limited", "rate_limit_error", "the upstream provider is rate limiting requests"},
    {503, "upstream_overloaded", "server_error", "the upstream provider is overloaded"},
    {502, "upstream_server_error", "upstream_error", "the upstream provider failed with a server error"},
    {502, "upstream_auth_rejected", "upstream_error",
     "the upstream provider rejected the gateway's credentials (check the provider API key)"},
    {400, "upstream_rejected_request", "invalid_request_error", "the upstream provider rejected the request"},
}};
}  // namespace

const FailureInfo& describe(UpstreamFailure f) {
  auto i = static_cast<std::size_t>(f);
  return kTable[i < kTable.size() ? i : 0];
}

UpstreamFailure classify_status(unsigned status) {
  if (status < 400) {
    return UpstreamFailure::kNone;
  }
  switch (status) {
    case 401:
    case 403:
      return UpstreamFailure::kAuthRejected;
    case 429:
      return UpstreamFailure::kRateLimited;
    case 503:
      return UpstreamFailure::kOverloaded;
    default:
      return status >= 500 ? UpstreamFailure::kServerError : UpstreamFailure::kClientError;
  }
}

}  // namespace sluice::routing
