#pragma once
// Cache entries in Redis: GET on the calling worker's client (a miss when Redis does not answer in time), SET with
// PX from the state thread.
#include "state/kv.h"

namespace sluice::state {

class RedisBackend;

class RedisKv : public KvStore {
 public:
  explicit RedisKv(RedisBackend& b) : b_(b) {}
  net::awaitable<std::optional<std::string>> get(std::string key) override;
  void put(std::string key, std::string value, std::chrono::milliseconds ttl) override;

 private:
  RedisBackend& b_;
};

}  // namespace sluice::state
