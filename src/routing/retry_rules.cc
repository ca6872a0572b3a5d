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

bool host_failure(UpstreamFailure f) { return f != UpstreamFailure::kNone && f != UpstreamFailure::kClientError; }

}  // namespace sluice::routing
