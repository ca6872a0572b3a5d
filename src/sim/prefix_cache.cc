#include "sim/prefix_cache.h"

namespace sluice::sim {

void PrefixHasher::add(std::string_view text) {
  constexpr uint64_t kUnitTenths = kCacheUnitTokens * 10;
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    hash_ = (hash_ ^ u) * 1099511628211ULL;
    uint64_t before = tenths_;
    if (u < 0x80) {
      tenths_ += 3;
    } else if ((u & 0xC0) != 0x80) {
      tenths_ += 6;
    }
    if (tenths_ / kUnitTenths != before / kUnitTenths) {
      blocks_.push_back(hash_);
    }
  }
}

std::size_t PrefixCache::lookup_and_insert(const std::vector<uint64_t>& blocks) {
  std::lock_guard lock{mu_};
  std::size_t hit = 0;
  while (hit < blocks.size() && map_.count(blocks[hit]) > 0) {
    ++hit;
  }
  queries_ += blocks.size();
  hits_ += hit;
  for (uint64_t h : blocks) {
    if (auto it = map_.find(h); it != map_.end()) {
      lru_.splice(lru_.begin(), lru_, it->second);
      continue;
    }
    lru_.push_front(h);
    map_[h] = lru_.begin();
    if (map_.size() > capacity_) {
      map_.erase(lru_.back());
      lru_.pop_back();
    }
  }
  return hit;
}

std::size_t PrefixCache::size() const {
  std::lock_guard lock{mu_};
  return map_.size();
}

uint64_t PrefixCache::queries() const {
  std::lock_guard lock{mu_};
  return queries_;
}

uint64_t PrefixCache::hits() const {
  std::lock_guard lock{mu_};
  return hits_;
}

}  // namespace sluice::sim
