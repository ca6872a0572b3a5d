#pragma once
// Which failures may be retried, and which count against a host's health. One place, so routing, budgets
// and outlier detection agree.
#include "routing/failure.h"

namespace sluice::routing {

// Safe and useful to try again (elsewhere): nothing was sent to the client, and the request itself is fine.
// Never 400/402/422 (the request is wrong) — those are answered as they are.
bool retriable(UpstreamFailure f);

// The host misbehaved (feeds outlier ejection). A 4xx about the request is the host working correctly.
bool host_failure(UpstreamFailure f);

}  // namespace sluice::routing
