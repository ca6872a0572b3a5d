#include "cache/response_cache.h"

namespace sluice::cache {

MemoryCache::MemoryCache(std::size_t max_bytes, std::chrono::milliseconds ttl,
                         std::chrono::milliseconds stale_ttl, std::size_t shards)
    : shard_budget_(max_bytes / shards), ttl_(ttl), stale_ttl_(stale_ttl) {
  for (std::size_t i = 0; i < shards; ++i) {
    shards_.push_back(std::make_unique<Shard>());
  }
}

MemoryCache::Shard& MemoryCache::shard_of(const std::string& key) {
  return *shards_[std::hash<std::string>{}(key) % shards_.size()];
}

void MemoryCache::erase(Shard& s, std::list<Entry>::iterator it) {
  s.bytes -= it->bytes;
  bytes_.fetch_sub(it->bytes, std::memory_order_relaxed);
  entries_.fetch_sub(1, std::memory_order_relaxed);
  s.index.erase(it->key);
  s.lru.erase(it);
}

Lookup MemoryCache::get(const std::string& key, CacheClock::time_point now, bool allow_stale) {
  Shard& s = shard_of(key);
  std::lock_guard lock(s.mu);
  auto found = s.index.find(key);
  if (found == s.index.end()) {
    return {};
  }
  auto it = found->second;
  auto age = now - it->stored;
  if (age >= ttl_ + stale_ttl_) {
    erase(s, it);
    return {};
  }
  bool stale = age >= ttl_;
  if (stale && !allow_stale) {
    return {};
  }
  s.lru.splice(s.lru.begin(), s.lru, it);
  return {it->answer, stale};
}

void MemoryCache::put(const std::string& key, std::shared_ptr<const CachedAnswer> answer,
                      CacheClock::time_point now) {
  std::size_t size = answer->bytes() + key.size();
  if (size > shard_budget_) {
    return;
  }
  Shard& s = shard_of(key);
  std::lock_guard lock(s.mu);
  if (auto found = s.index.find(key); found != s.index.end()) {
    erase(s, found->second);
  }
  while (!s.lru.empty() && s.bytes + size > shard_budget_) {
    erase(s, std::prev(s.lru.end()));
  }
  s.lru.push_front(Entry{key, std::move(answer), now, size});
  s.index.emplace(key, s.lru.begin());
  s.bytes += size;
  bytes_.fetch_add(size, std::memory_order_relaxed);
  entries_.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace sluice::cache
