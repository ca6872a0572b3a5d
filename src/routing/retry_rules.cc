#include "routing/retry_rules.h"

namespace sluice::routing {

bool retriable(UpstreamFailure f) {
  switch (f) {
    case UpstreamFailure::kNone:
    case UpstreamFailure::kClientError:
    case UpstreamFailure::kCount:
      return false;
    default:
      return true;  // connect/TLS/timeouts/resets/empty/protocol/429/5xx, and 401/403 (another host has other keys)
  }
}

bool host_failure(UpstreamFailure f) {
  // A 429 is the provider pacing a key (the key pacer honours it), not the host failing.
  return f != UpstreamFailure::kNone && f != UpstreamFailure::kClientError && f != UpstreamFailure::kRateLimited;
}

}  // namespace sluice::routing
