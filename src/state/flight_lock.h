#pragma once
// The single-flight lock with wake-ups, the third kind of shared state: identical cacheable requests arriving
// at different replicas make one upstream call. The first replica to take the lock for a request key leads
// (calls upstream, stores the answer in the shared cache, announces it); the others wait for the announcement
// and replay the stored answer. Redis: SET NX PX for the lock (renewed while the leader works, so a crashed
// leader frees it within seconds), PUBLISH on one channel for the wake-up, and a slow poll of the lock as a safety
// net for a lost message (redis_flight.cc).
#include <chrono>
#include <string>

#include "http/asio.h"

namespace sluice::state {

class FlightLock {
 public:
  enum class Role : std::uint8_t {
    kLeader,    // this replica calls upstream; done() when finished
    kFollower,  // another replica does: wait()
    kAlone,     // the store is away: go on without cross-replica coalescing
  };
  enum class Wait : std::uint8_t {
    kAnnounced,  // the leader stored its answer: read the shared cache
    kGone,       // the lock ended without an answer (the leader failed): call upstream yourself
    kTimeout,    // the deadline passed
  };
  virtual ~FlightLock() = default;
  virtual net::awaitable<Role> lead(std::string key) = 0;
  virtual net::awaitable<Wait> wait(std::string key, std::chrono::steady_clock::time_point deadline) = 0;
  // Leader: releases the lock; `stored` = the answer is in the shared cache (followers are woken either way).
  virtual void done(std::string key, bool stored) = 0;
};

}  // namespace sluice::state
