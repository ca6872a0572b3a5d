#pragma once
// The key/value store with TTL, the second kind of shared state: cache entries every replica can read.
// Calls never wait longer than the store's timeout; a store that is away reads as a miss.
#include <chrono>
#include <optional>
#include <string>

#include "http/asio.h"

namespace sluice::state {

class KvStore {
 public:
  virtual ~KvStore() = default;
  // The value stored under `key`, or nullopt (missing, expired, or the store did not answer in time).
  virtual net::awaitable<std::optional<std::string>> get(std::string key) = 0;
  // Stores `value` under `key` for `ttl`, without waiting (fire and forget; errors are counted).
  virtual void put(std::string key, std::string value, std::chrono::milliseconds ttl) = 0;
};

}  // namespace sluice::state
