#pragma once
// Complete answers by request key: the embedded LRU (MemoryCache), or that LRU in front of a store every
// replica shares (TieredCache, tiered_cache.h). Entries are immutable and shared, so a hit is a pointer copy and
// the replay needs no lock.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "openai/usage.h"

namespace sluice::cache {

using CacheClock = std::chrono::steady_clock;

// One answer in both shapes, built once at store time so a replay is a plain write.
struct CachedAnswer {
  std::string json;       // chat.completion object (non-stream shape)
  std::string sse_main;   // SSE events up to the finish_reason chunk (stream shape, no usage-only chunk)
  std::string sse_usage;  // the usage-only chunk ("choices":[]), sent when the client asked include_usage
  openai::Usage usage;    // what the answer cost when it was produced upstream
  std::string upstream_model;  // the id it was priced by
  std::string upstream;        // where it came from
  std::size_t bytes() const {
    return json.size() + sse_main.size() + sse_usage.size() + upstream_model.size() + 256;
  }
};

struct Lookup {
  std::shared_ptr<const CachedAnswer> answer;  // null on a miss
  bool stale = false;                          // past ttl (only returned when allow_stale)
};

class ResponseCache {
 public:
  virtual ~ResponseCache() = default;
  // This process's entries only (no I/O).
  virtual Lookup get(const std::string& key, CacheClock::time_point now, bool allow_stale) = 0;
  // True when a shared store stands behind get(): then ask fetch() (awaitable) on a local miss.
  virtual bool remote() const { return false; }
  virtual void put(const std::string& key, std::shared_ptr<const CachedAnswer> answer,
                   CacheClock::time_point now) = 0;
  virtual std::size_t bytes() const = 0;
  virtual std::size_t entries() const = 0;
};

// Sharded in-memory LRU with a byte budget; entries expire after ttl and are dropped after ttl + stale_ttl.
class MemoryCache : public ResponseCache {
 public:
  MemoryCache(std::size_t max_bytes, std::chrono::milliseconds ttl, std::chrono::milliseconds stale_ttl,
              std::size_t shards);
  Lookup get(const std::string& key, CacheClock::time_point now, bool allow_stale) override;
  void put(const std::string& key, std::shared_ptr<const CachedAnswer> answer,
           CacheClock::time_point now) override;
  std::size_t bytes() const override { return bytes_.load(std::memory_order_relaxed); }
  std::size_t entries() const override { return entries_.load(std::memory_order_relaxed); }

 private:
  struct Entry {
    std::string key;
    std::shared_ptr<const CachedAnswer> answer;
    CacheClock::time_point stored;
    std::size_t bytes = 0;
  };
  struct Shard {
    std::mutex mu;
    std::list<Entry> lru;  // front = most recently used
    std::unordered_map<std::string, std::list<Entry>::iterator> index;
    std::size_t bytes = 0;
  };
  Shard& shard_of(const std::string& key);
  void erase(Shard& s, std::list<Entry>::iterator it);

  std::size_t shard_budget_;
  std::chrono::milliseconds ttl_, stale_ttl_;
  std::vector<std::unique_ptr<Shard>> shards_;
  std::atomic<std::size_t> bytes_{0};
  std::atomic<std::size_t> entries_{0};
};

}  // namespace sluice::cache
