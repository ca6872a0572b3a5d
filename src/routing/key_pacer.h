#pragma once
// Per-API-key pacing for one upstream. A deployment may list several provider keys; the pacer spreads
// requests over them using what the provider said about each key (x-ratelimit-*, Retry-After, 429, 402) so
// requests go to a key with headroom *before* the provider has to answer 429, and a key whose balance is
// gone (402) or that was rejected (401) is skipped for a while. Shared by all workers: a mutex held for a
// few instructions, never across I/O.
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "routing/rate_signals.h"
#include "state/pacing.h"
#include "telemetry/metrics.h"

namespace sluice::routing {

class KeyPacer : public state::PacingView {
 public:
  using Clock = std::chrono::steady_clock;
  // How long a key stays skipped after 402/401 before one request probes it again: kFirstDisable after the
  // first refusal (a provider's auth service hiccups too), doubled for each further one in a row, up to
  // kDisableFor (a revoked key or an empty balance is probed ~9 times in its first 5 minutes, then every 5).
  static constexpr std::chrono::milliseconds kFirstDisable{1'000};
  static constexpr std::chrono::milliseconds kDisableFor{300'000};
  // Refusals in a row after which a key counts as refused (not a hiccup) for refused().
  static constexpr std::uint32_t kConfirmedRefusals = 2;
  // After a 429 without Retry-After or reset information.
  static constexpr std::chrono::milliseconds kDefaultBackoff{1'000};

  // `names`: for logs and metrics (the env var names, never the secrets). `pacing` off = plain round robin.
  KeyPacer(const std::string& upstream, std::vector<std::string> names, bool pacing);

  struct Choice {
    std::optional<std::size_t> key;  // reserved until release(); nullopt: no key has headroom now
    Clock::time_point ready_at{};    // when none: the earliest moment one should have headroom again
  };
  Choice pick(Clock::time_point now);
  // A key for a request that must go now anyway (no headroom anywhere and no time to wait): the least bad.
  std::size_t pick_anyway(Clock::time_point now);
  // Ends a reservation: learns from the answer. status 0 = no HTTP answer (connect failure, client gone).
  // Returns a description when the key changed state (for a log line), else empty.
  std::string release(std::size_t key, unsigned status, const RateSignals& s, Clock::time_point now);

  bool has_headroom(Clock::time_point now) const;
  // Every key was refused (401/402) repeatedly since its last success, more often than it has requests still
  // out, and is out now: another try with this upstream answers the same. A single refusal is not enough (the
  // key is out for a second, and may be back), nor a burst's fast refusals while its other requests run.
  bool refused(Clock::time_point now) const;
  std::size_t size() const override { return keys_.size(); }
  const std::string& name(std::size_t k) const override { return keys_[k].name; }
  // Counted by the caller when a request waited for a key to have headroom.
  void count_wait() { waits_->inc(); }

  struct KeyView {
    std::int64_t remaining_requests = -1;  // -1 unknown
    bool disabled = false;
    std::uint32_t pending = 0;
  };
  KeyView view(std::size_t k, Clock::time_point now) const;

  // The view other replicas share (state/pacing.h, docs/scale-out.md).
  using Observation = state::PacingObservation;
  Observation observation(std::size_t k, std::int64_t unix_ms) const override {
    return observation(k, Clock::now(), unix_ms);
  }
  std::uint32_t pending(std::size_t k) const override;
  void merge(std::size_t k, const Observation& o, std::uint32_t others_pending, std::int64_t unix_ms) override {
    merge(k, o, others_pending, Clock::now(), unix_ms);
  }
  // The same with the steady clock's reading given (tests): times convert through (now, unix_ms).
  Observation observation(std::size_t k, Clock::time_point now, std::int64_t unix_ms) const;
  void merge(std::size_t k, const Observation& o, std::uint32_t others_pending, Clock::time_point now,
             std::int64_t unix_ms);

 private:
  struct Key {
    std::string name;
    std::int64_t limit = -1;      // requests per window, -1 unknown
    std::int64_t remaining = -1;  // as of the last answer, -1 unknown
    Clock::time_point reset_at{};
    std::int64_t tokens_remaining = -1;
    Clock::time_point tokens_reset_at{};
    Clock::time_point blocked_until{};  // after a 429
    Clock::time_point disabled_until{};  // after a 402/401
    std::uint32_t refusals = 0;          // 402/401 answers in a row to probes (sent while the key was in service)
    std::uint32_t refused_answers = 0;   // 402/401 answers since the last success, probes or not
    std::uint32_t pending = 0;           // sent, answer not seen yet
    std::uint32_t remote_pending = 0;    // other replicas' (shared state)
    std::int64_t observed_ms = 0;        // unix ms of the newest answer learnt from (this or another replica)
    telemetry::Counter* rate_limited = nullptr;  // sluice_upstream_key_events_total{event=...}
    telemetry::Counter* disabled = nullptr;
  };
  // Requests this key can still take now (large when nothing is known); <= 0 means none.
  std::int64_t headroom(const Key& k, Clock::time_point now) const;
  Clock::time_point ready_at(const Key& k, Clock::time_point now) const;

  const bool pacing_;
  mutable std::mutex mu_;
  std::vector<Key> keys_;
  std::size_t next_ = 0;  // round-robin cursor, also the tie-breaker
  telemetry::Counter* waits_ = nullptr;
};

}  // namespace sluice::routing
