#pragma once
// The one mapping from a failed upstream part to the client's answer (docs/configuration.md, "Failure
// mapping"): an upstream HTTP error passes with its status and its OpenAI-shaped body (wrapped when it is not
// one) and Retry-After; a rejected provider key and every failure without an HTTP answer become the
// gateway's own error. Requests that shared the upstream call (coalescing) get the same answer.
#include <string>

#include "upstream/attempt.h"

namespace sluice::gateway {

struct FailureAnswer {
  unsigned status = 0;
  std::string body;
  std::string retry_after;
};

FailureAnswer failure_answer(const upstream::AttemptOutcome& out);

// The last bytes of a stream that cannot be completed: the failure as an error event, then [DONE].
std::string failure_stream_tail(routing::UpstreamFailure failure);

}  // namespace sluice::gateway
