#include "cache/services.h"

#include <algorithm>

#include "cache/tiered_cache.h"

namespace sluice::cache {

void CacheStats::count_coalesced(std::string_view model) const {
  if (auto it = coalesced.find(model); it != coalesced.end()) {
    it->second->inc();
  }
}

CacheServices::~CacheServices() {
  if (collector) {
    telemetry::metrics().remove_collector(collector);
  }
}

namespace {
void register_cache_metrics(const config::Config& cfg, CacheServices& svc) {
  auto& reg = telemetry::metrics();
  auto& requests = reg.counter("sluice_cache_requests_total",
                               "Cacheable-request outcomes at the response cache", {"result"});
  svc.stats.hit = &requests.with({"hit"});
  svc.stats.miss = &requests.with({"miss"});
  svc.stats.bypass = &requests.with({"bypass"});
  svc.stats.stale = &requests.with({"stale"});
  auto& coalesced = reg.counter("sluice_coalesced_total",
                                "Requests answered by another request's upstream call", {"model"});
  for (const auto& [name, m] : cfg.models) {
    svc.stats.coalesced.emplace(name, &coalesced.with({name}));
  }
  auto& bytes = reg.gauge("sluice_cache_bytes", "Bytes held by the response cache").with({});
  auto& entries = reg.gauge("sluice_cache_entries", "Answers held by the response cache").with({});
  if (svc.store) {
    svc.collector = reg.add_collector([&bytes, &entries, store = svc.store.get()] {
      bytes.set(double(store->bytes()));
      entries.set(double(store->entries()));
    });
  }
}
}  // namespace

std::unique_ptr<CacheServices> make_cache_services(const config::Config& cfg, const CacheServices* prev,
                                                   const config::Config* prev_cfg,
                                                   std::shared_ptr<state::Backend> shared) {
  auto svc = std::make_unique<CacheServices>();
  svc->shared = shared;
  if (prev && prev_cfg && prev_cfg->cache == cfg.cache && prev->shared == shared) {
    svc->store = prev->store;
  } else if (cfg.cache.enabled) {
    // Enough shards for concurrency, but each must still hold a largest entry several times over.
    std::size_t shards =
        std::clamp<std::size_t>(cfg.cache.max_bytes / (4 * cfg.cache.max_entry_bytes), 1, 16);
    svc->store =
        std::make_unique<MemoryCache>(cfg.cache.max_bytes, cfg.cache.ttl, cfg.cache.stale_ttl, shards);
    if (shared && shared->kv()) {  // state hook: the LRU in front of entries every replica shares
      svc->store = std::make_shared<TieredCache>(svc->store, shared, cfg.cache.ttl, cfg.cache.stale_ttl);
    }
  }
  register_cache_metrics(cfg, *svc);
  return svc;
}

}  // namespace sluice::cache
