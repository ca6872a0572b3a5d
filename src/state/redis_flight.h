#pragma once
// The cross-replica flight lock on Redis (flight_lock.h): SET NX PX, renewed from the state thread while held;
// followers sleep on their own worker's timer and are woken through one pub/sub channel, with a poll of the lock
// (50 → 400 ms) in case a message was lost.
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "state/flight_lock.h"
#include "state/redis/resp.h"

namespace sluice::state {

class RedisBackend;

class RedisFlightLock : public FlightLock {
 public:
  static constexpr std::chrono::milliseconds kLockTtl{6000};

  explicit RedisFlightLock(RedisBackend& b) : b_(b) {}
  net::awaitable<Role> lead(std::string key) override;
  net::awaitable<Wait> wait(std::string key, std::chrono::steady_clock::time_point deadline) override;
  void done(std::string key, bool stored) override;

  // State thread: a message on the channel (the key whose answer is stored), and the renewals of held locks.
  void wake(const std::string& key);
  std::vector<redis::Command> renewals(std::chrono::steady_clock::time_point now);
  std::string channel() const;

 private:
  struct Sleeper {
    explicit Sleeper(const net::any_io_executor& ex) : timer(ex) {}
    net::steady_timer timer;
    bool woken = false;  // touched on the sleeper's own thread only
  };
  std::string lock_key(const std::string& key) const;

  RedisBackend& b_;
  std::mutex mu_;
  std::unordered_multimap<std::string, std::shared_ptr<Sleeper>> sleepers_;
  std::set<std::string> held_;
  std::chrono::steady_clock::time_point last_renewal_{};
};

}  // namespace sluice::state
