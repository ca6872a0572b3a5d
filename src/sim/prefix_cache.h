#pragma once
// DeepSeek-style context cache: prefixes from token 0 are cached in 64-token units (best effort, LRU).
// Shared by all workers behind a mutex: lookups are short and the sim is never CPU-bound on it.
#include <cstdint>
#include <list>
#include <mutex>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace sluice::sim {

inline constexpr uint64_t kCacheUnitTokens = 64;

// Hashes of the prompt prefix at each 64-token boundary (by the 0.3/0.6 estimate), in order.
class PrefixHasher {
 public:
  void add(std::string_view text);
  const std::vector<uint64_t>& blocks() const { return blocks_; }
  uint64_t tenths() const { return tenths_; }

 private:
  uint64_t hash_ = 1469598103934665603ULL;  // FNV-1a offset basis
  uint64_t tenths_ = 0;
  std::vector<uint64_t> blocks_;
};

class PrefixCache {
 public:
  explicit PrefixCache(std::size_t capacity_blocks = 1 << 16) : capacity_(capacity_blocks) {}
  // Returns how many leading blocks were cached, then caches all of them (most recent first).
  std::size_t lookup_and_insert(const std::vector<uint64_t>& blocks);
  std::size_t size() const;
  uint64_t queries() const;
  uint64_t hits() const;

 private:
  std::size_t capacity_;
  mutable std::mutex mu_;
  std::list<uint64_t> lru_;  // front = most recent
  std::unordered_map<uint64_t, std::list<uint64_t>::iterator> map_;
  uint64_t queries_ = 0;  // in blocks, like vllm:prefix_cache_queries_total counts tokens
  uint64_t hits_ = 0;
};

}  // namespace sluice::sim
