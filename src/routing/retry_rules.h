#pragma once
// Which failures may be retried, and which count against a host's health. One place, so routing, budgets
// and outlier detection agree.
#include "routing/failure.h"

namespace sluice::routing {

// Safe and useful to try again (elsewhere): nothing was sent to the client, and the request itself is fine.
// Never 400/404/422 (the request is wrong) — those are answered as they are. 401/402/403 are kept apart: they
// speak about a provider key, and the planner retries them with another key or upstream.
bool retriable(UpstreamFailure f);

// The host misbehaved (feeds outlier ejection). A 4xx about the request is the host working correctly, and a 429
// is the provider pacing one key.
bool host_failure(UpstreamFailure f);

}  // namespace sluice::routing
