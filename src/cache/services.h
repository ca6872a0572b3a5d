#pragma once
// The response cache's long-lived parts (docs/cache.md): the store of complete answers, the table of requests
// in flight that identical ones may join, and the cache's metrics. Built from the config; a reload whose
// cache settings did not change keeps the store (and its entries).
#include <map>
#include <memory>
#include <string>

#include "cache/flight.h"
#include "cache/response_cache.h"
#include "config/config.h"
#include "state/backend.h"
#include "telemetry/metrics.h"

namespace sluice::cache {

// The cache's metrics. Label children are resolved once at startup: the hot path only increments.
struct CacheStats {
  telemetry::Counter *hit = nullptr, *miss = nullptr, *bypass = nullptr, *stale = nullptr;
  std::map<std::string, telemetry::Counter*, std::less<>> coalesced;  // by model
  void count_coalesced(std::string_view model) const;
};

struct CacheServices {
  std::shared_ptr<ResponseCache> store;  // null when cache.enabled is false
  FlightTable flights;
  CacheStats stats;
  std::uint64_t collector = 0;  // cache bytes/entries gauges, refreshed at scrape
  // The state backend; with a key/value store (Redis) entries and flights are shared by every replica
  // (tiered_cache.h, shared_lookup.h).
  std::shared_ptr<state::Backend> shared;
  ~CacheServices();
};

// `prev`/`prev_cfg`: the running generation's, on a reload. `shared`: the state backend.
std::unique_ptr<CacheServices> make_cache_services(const config::Config& cfg,
                                                   const CacheServices* prev = nullptr,
                                                   const config::Config* prev_cfg = nullptr,
                                                   std::shared_ptr<state::Backend> shared = nullptr);

}  // namespace sluice::cache
