#pragma once
// Where sluice keeps state that replicas share (docs/scale-out.md): one interface per kind — counters with
// reservations (counters.h), a key/value store with TTL (kv.h: cache entries), a single-flight lock with
// wake-ups (flight_lock.h: cross-replica coalescing) and a shared view of provider-key pacing (pacing.h).
// `local` keeps everything in this process (one replica; the default). `redis` shares it through Redis.
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "config/state_config.h"
#include "http/asio.h"
#include "state/counters.h"
#include "state/pacing.h"

namespace sluice::state {

class KvStore;
class FlightLock;

class Backend {
 public:
  virtual ~Backend() = default;
  virtual bool shared() const = 0;

  // Counters by name. `tag` groups what must stay together (a virtual key: on one Redis Cluster shard);
  // `name` tells the counters of one tag apart ("rq", "tk:deepseek-chat", ...).
  virtual std::shared_ptr<RateCounter> rate(const std::string& tag, const std::string& name) = 0;
  virtual std::shared_ptr<SlotCounter> slots(const std::string& tag, const std::string& name) = 0;
  virtual std::shared_ptr<SpendCounter> spend(const std::string& tag) = 0;

  // Refills the leases of counters that answered kRefill, in one round trip. Returns when each has either
  // new allowance, a refusal from the shared store, or (store away) its fallback; never longer than the
  // store's timeout.
  virtual net::awaitable<void> refill(std::span<Refillable* const> needs) = 0;

  // The budget as every replica sees it (shared: read from the store; local: this process).
  virtual net::awaitable<SpendView> spend_view(SpendCounter& c, const BudgetCaps& caps, std::int64_t unix_ms);

  // Shared backends only (null for local): cache entries and the cross-replica flight lock.
  virtual KvStore* kv() { return nullptr; }
  virtual FlightLock* flight_lock() { return nullptr; }

  // Provider-key pacing: an upstream's keys share what their answers said (x-ratelimit-*, 429, 402) and their
  // requests in flight with other replicas while the returned handle lives (destroy it before `view`).
  virtual std::shared_ptr<void> attach_pacing(const std::string& upstream, PacingView& view) {
    (void)upstream;
    (void)view;
    return nullptr;
  }
};

// The in-process backend (stateless factory; the counters it makes hold the state).
std::shared_ptr<Backend> local_backend();

// The backend `cfg` asks for; null with `error` set when it cannot be built (TLS files, ...). A Redis backend
// starts its own background thread and connects in the background: an unreachable Redis is not an error here.
std::shared_ptr<Backend> make_backend(const config::StateConfig& cfg, std::string& error);

}  // namespace sluice::state
