#pragma once
// The Redis backend (docs/scale-out.md). Shared counters lease allowance from Redis (redis_counters.h); the
// request path refills leases through the calling worker's own client (redis/client.h), everything else —
// returned leases, settled spend, allotment keep-alives, window tallies, presence, provider-key views — goes out
// from the backend's state thread in one pipelined batch per sync interval.
//
// While Redis does not answer, `usable()` is false and every counter decides from this replica's share of
// its limit (limit ÷ replicas seen recently), or refuses when fail_mode is closed.
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "state/backend.h"
#include "state/kv.h"
#include "state/redis_flight.h"
#include "state/redis/client.h"
#include "state/redis/scripts.h"
#include "state/state_metrics.h"

namespace sluice::state {

// A counter the backend refills and syncs (implemented in redis_counters.cc, redis_spend.cc).
class SharedCounter : public Refillable {
 public:
  // The command that refills the lease (nullopt: nothing to ask any more).
  virtual std::optional<redis::Command> refill_command(Nanos now, std::int64_t unix_ms) = 0;
  virtual void on_refill(const redis::Reply& r, Nanos now) = 0;
  // Redis did not answer: decide from the local share for a while. `sent`: the command may have run.
  virtual void on_refill_failed(Nanos now, bool sent) = 0;
  // Background work for the state thread: commands to send now (returned leases, keep-alives, spend), and
  // their replies. An empty result sends nothing.
  virtual std::vector<redis::Command> sync_commands(Nanos now, std::int64_t unix_ms) = 0;
  virtual void on_sync(const redis::Replies& r, redis::CallError err, Nanos now) = 0;
};

class RedisBackend : public Backend {
 public:
  RedisBackend(const config::StateConfig& cfg, std::shared_ptr<redis::ClientSetup> setup, StateMetrics metrics);
  ~RedisBackend() override;
  // Starts the state thread and waits (at most the connect timeout) for Redis to answer once, so the first
  // requests already see the shared state.
  void start();
  // How many times Redis went away: a counter's fallback share starts afresh with each outage.
  std::uint64_t outage() const { return outages_.load(std::memory_order_relaxed); }

  bool shared() const override { return true; }
  std::shared_ptr<RateCounter> rate(const std::string& tag, const std::string& name) override;
  std::shared_ptr<SlotCounter> slots(const std::string& tag, const std::string& name) override;
  std::shared_ptr<SpendCounter> spend(const std::string& tag) override;
  net::awaitable<void> refill(std::span<Refillable* const> needs) override;
  net::awaitable<SpendView> spend_view(SpendCounter& c, const BudgetCaps& caps, std::int64_t unix_ms) override;
  std::shared_ptr<void> attach_pacing(const std::string& upstream, PacingView& view) override;

  // For the counters (any thread).
  bool usable() const { return up_.load(std::memory_order_relaxed); }
  std::uint32_t replicas() const { return replicas_.load(std::memory_order_relaxed); }
  const config::StateConfig& config() const { return cfg_; }
  const std::string& replica_id() const { return replica_id_; }
  // "<prefix>:{<tag>}:<name>": everything of one tag hashes to one Redis Cluster slot.
  std::string key(std::string_view tag, std::string_view name) const;
  StateMetrics& metrics() { return metrics_; }
  Nanos allotment_ttl_ms() const;
  // The request path's client for the calling coroutine's io_context.
  net::awaitable<std::shared_ptr<redis::Client>> local_client();
  // Sends from the state thread without waiting for the answer (any thread).
  void send_background(std::vector<redis::Command> cmds);
  KvStore* kv() override { return kv_.get(); }
  FlightLock* flight_lock() override;

 private:
  net::awaitable<void> sync_loop();
  net::awaitable<void> subscriber_loop();  // the flight lock's wake-ups
  net::awaitable<void> heartbeat_loop();
  // `as_of` (steady ns) instead of now: far in the future on shutdown, so every lease counts as ended.
  net::awaitable<void> sync_once(Nanos as_of = 0);
  net::awaitable<bool> heartbeat_once();
  redis::Command presence_command() const;
  void set_up(bool up);
  void note_call(redis::CallError err);  // the state thread's calls decide whether Redis is up
  template <class T>
  std::vector<std::shared_ptr<T>> live(std::vector<std::weak_ptr<T>>& v);
  // The counter registered under `id`, made (and synced from now on) when there is none.
  template <class T, class... Args>
  std::shared_ptr<T> registered(const std::string& id, Args&&... args);
  // Provider-key views (pacer_sync.cc): one command per attached key per sync, and their replies.
  std::vector<redis::Command> pacer_commands(std::vector<std::pair<std::uint64_t, std::size_t>>& who);
  void pacer_replies(const std::vector<std::pair<std::uint64_t, std::size_t>>& who, const redis::Replies& r,
                     std::size_t first);

  config::StateConfig cfg_;
  std::shared_ptr<redis::ClientSetup> setup_;
  StateMetrics metrics_;
  std::string replica_id_;
  std::atomic<bool> up_{false};
  std::atomic<std::uint32_t> replicas_{1};
  std::atomic<std::uint64_t> outages_{0};

  std::mutex mu_;  // guards the registries
  std::map<std::string, std::weak_ptr<void>> registry_;  // counters by kind and Redis key
  std::vector<std::weak_ptr<SharedCounter>> synced_;
  struct PacedKey {
    std::string redis_key;
    PacingView* view;
    std::size_t index;
  };
  std::map<std::uint64_t, std::vector<PacedKey>> pacers_;  // by attachment
  std::uint64_t next_attachment_ = 1;

  std::unique_ptr<KvStore> kv_;
  std::unique_ptr<RedisFlightLock> flight_;
  net::io_context ioc_{1};
  // After ioc_: destroyed before it (its timer belongs to the io_context's services).
  std::shared_ptr<redis::Connection> subscriber_;  // state thread only
  std::shared_ptr<redis::ClientSetup> bg_setup_;
  std::shared_ptr<redis::Client> bg_;  // the state thread's client
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  bool in_sync_ = false;  // state thread only
  int slow_calls_ = 0;    // timeouts in a row (state thread only)
};

// Points a client setup's call counters at the state metrics.
void count_calls(redis::ClientSetup& s, const StateMetrics& m);

// A started Redis backend (null with `error` when its TLS settings cannot be used).
std::shared_ptr<Backend> make_redis_backend(const config::StateConfig& cfg, std::string& error);

}  // namespace sluice::state
