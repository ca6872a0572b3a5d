#pragma once
// The response cache of several replicas: each keeps its small in-memory LRU in front of entries shared
// through the state backend's key/value store (Redis, with the entry's TTL). An answer stored by one replica is
// a hit on every other; a remote hit is copied into the local LRU with its age, so it expires there when it
// expires everywhere.
#include <memory>

#include "cache/response_cache.h"
#include "http/asio.h"
#include "state/backend.h"
#include "state/kv.h"

namespace sluice::cache {

class TieredCache : public ResponseCache {
 public:
  // `backend` keeps `kv` alive.
  TieredCache(std::shared_ptr<ResponseCache> local, std::shared_ptr<state::Backend> backend,
              std::chrono::milliseconds ttl, std::chrono::milliseconds stale_ttl);

  Lookup get(const std::string& key, CacheClock::time_point now, bool allow_stale) override;
  // Stores locally and, without waiting, in the shared store.
  void put(const std::string& key, std::shared_ptr<const CachedAnswer> answer, CacheClock::time_point now) override;
  bool remote() const override { return true; }
  // The local entry, else the shared one (never waits longer than the store's timeout; a store that is away
  // reads as a miss).
  net::awaitable<Lookup> fetch(const std::string& key, CacheClock::time_point now, bool allow_stale);
  std::size_t bytes() const override { return local_->bytes(); }
  std::size_t entries() const override { return local_->entries(); }
  const state::Backend* backend() const { return backend_.get(); }

 private:
  std::shared_ptr<ResponseCache> local_;
  std::shared_ptr<state::Backend> backend_;
  state::KvStore& kv_;
  std::chrono::milliseconds ttl_, stale_ttl_;
};

// get() or, behind a shared store, fetch(): the lookup the cache path awaits.
net::awaitable<Lookup> lookup(ResponseCache& store, const std::string& key, CacheClock::time_point now,
                              bool allow_stale);

}  // namespace sluice::cache
