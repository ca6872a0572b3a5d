#pragma once
// Counters shared through Redis: each holds a lease (lease.h) guarded by its own mutex, asks the backend for a
// refill when the lease cannot cover a request, and decides from this replica's share of the limit while Redis
// is away (or refuses, with fail_mode closed).
#include <memory>
#include <mutex>
#include <optional>

#include "state/lease.h"
#include "state/local.h"
#include "state/redis_backend.h"

namespace sluice::state {

class RedisRate final : public RateCounter, public SharedCounter {
 public:
  RedisRate(RedisBackend& b, std::string key, std::string tag, std::string name);
  Verdict reserve(const GcraParams& p, std::uint64_t units, Nanos now) override;
  void settle(const GcraParams& p, std::uint64_t reserved, std::uint64_t actual, Nanos now) override;
  Verdict peek(const GcraParams& p, Nanos now) const override;
  Refillable* shared() override { return this; }

  std::optional<redis::Command> refill_command(Nanos now, std::int64_t unix_ms) override;
  void on_refill(const redis::Reply& r, Nanos now) override;
  void on_refill_failed(Nanos now, bool sent) override;
  std::vector<redis::Command> sync_commands(Nanos now, std::int64_t unix_ms) override;
  void on_sync(const redis::Replies& r, redis::CallError err, Nanos now) override;

 private:
  bool local_mode(Nanos now) const;
  GcraParams share(const GcraParams& p) const;  // limit ÷ replicas
  Verdict reserve_local(const GcraParams& p, std::uint64_t units, Nanos now);
  void count(const GcraParams& p, std::int64_t units);

  RedisBackend& b_;
  const std::string key_;
  const std::string tag_, name_;
  mutable std::mutex mu_;
  RateLease lease_;
  GcraParams params_;  // the last ones seen (refills and syncs need the emission interval)
  Nanos fallback_until_ = 0;
  std::unique_ptr<LocalRate> fallback_;  // this replica's share while Redis is away
  std::uint64_t fallback_outage_ = 0;
  std::uint64_t fallback_units_ = 0;  // reserved from the share and not settled yet
  WindowTally tally_;
  std::int64_t gauge_index_ = -1;  // the window whose shared total the gauge shows
  telemetry::Gauge* gauge_ = nullptr;
  // What the last sync sent, to read its replies.
  struct SyncSent {
    bool adjust = false;
    bool tally = false;
    bool read = false;
    std::int64_t read_index = 0;
  } sync_;
};

class RedisSlots final : public SlotCounter, public SharedCounter {
 public:
  RedisSlots(RedisBackend& b, std::string key);
  Verdict acquire(std::uint32_t limit, Nanos now) override;
  void release(Nanos now) override;
  std::uint32_t in_flight() const override;
  Refillable* shared() override { return this; }

  std::optional<redis::Command> refill_command(Nanos now, std::int64_t unix_ms) override;
  void on_refill(const redis::Reply& r, Nanos now) override;
  void on_refill_failed(Nanos now, bool sent) override;
  std::vector<redis::Command> sync_commands(Nanos now, std::int64_t unix_ms) override;
  void on_sync(const redis::Replies& r, redis::CallError err, Nanos now) override;

 private:
  redis::Command set_command(std::uint32_t want, std::uint32_t floor, std::uint32_t limit) const;

  RedisBackend& b_;
  const std::string key_;
  mutable std::mutex mu_;
  SlotLease lease_;
  std::uint32_t limit_ = 0;
  Nanos fallback_until_ = 0;
  Nanos last_sync_ = 0;
};

class RedisSpend final : public SpendCounter, public SharedCounter {
 public:
  RedisSpend(RedisBackend& b, std::string tag);
  SpendVerdict reserve(const BudgetCaps& caps, NanoUsd estimate, std::int64_t unix_ms, Nanos now) override;
  void settle(NanoUsd estimate, NanoUsd actual, std::int64_t unix_ms, Nanos now) override;
  SpendView local_view(std::int64_t unix_ms) override;
  Refillable* shared() override { return this; }

  std::optional<redis::Command> refill_command(Nanos now, std::int64_t unix_ms) override;
  void on_refill(const redis::Reply& r, Nanos now) override;
  void on_refill_failed(Nanos now, bool sent) override;
  std::vector<redis::Command> sync_commands(Nanos now, std::int64_t unix_ms) override;
  void on_sync(const redis::Replies& r, redis::CallError err, Nanos now) override;
  // The budget script as a read (and keep-alive): what /admin/budgets shows.
  redis::Command view_command(std::int64_t unix_ms);
  SpendView read_view(const redis::Reply& r, std::int64_t unix_ms);

 private:
  redis::Command command(NanoUsd want, NanoUsd need, NanoUsd add, std::int64_t unix_ms) const;
  SpendVerdict reserve_local(NanoUsd estimate, std::int64_t unix_ms, Nanos now);
  SpendView view_of(const redis::Reply& r, std::int64_t unix_ms) const;

  RedisBackend& b_;
  const std::string tag_;
  mutable std::mutex mu_;
  SpendLease lease_;
  BudgetCaps caps_;
  std::int64_t day_ = -1;
  Nanos fallback_until_ = 0;
  std::unique_ptr<BudgetAccount> fallback_;
  std::uint64_t fallback_outage_ = 0;
  NanoUsd fallback_reserved_ = 0;
  NanoUsd sending_ = 0;  // spend in the refill command in flight
  NanoUsd syncing_ = 0;  // spend in the sync command in flight
  Nanos last_sync_ = 0;
};

}  // namespace sluice::state
