#pragma once
// The cache tier every replica shares (state backend with a key/value store and a flight lock: Redis), between
// lookup() and the upstream call: an entry another replica stored, or another replica's call for the same
// request to wait for. Coalescing across replicas: docs/cache.md and docs/scale-out.md.
#include <chrono>
#include <string_view>

#include "cache/lookup.h"
#include "http/asio.h"

namespace sluice::cache {

// After lookup() set t.check_shared: reads the shared entry (one round trip, at most state.redis.timeout) and,
// as the local leader of a flight, takes the cross-replica lock; when another replica already calls upstream,
// waits (until `deadline`) for its announcement and reads its answer. A hit is handed to this replica's
// joiners through the flight. Returns kHit, or kUpstream (leading, counted as a miss). `model` for the
// coalescing metric.
net::awaitable<CacheDecision> lookup_shared(CacheServices& svc, CacheTicket& t, std::string_view model,
                                            std::chrono::steady_clock::time_point deadline);

// Held by settle(): a leader's cross-replica lock is released (and its followers woken) when settle returns,
// after the answer was stored.
struct SharedRelease {
  CacheServices& svc;
  CacheTicket& t;
  ~SharedRelease();
};

}  // namespace sluice::cache
