#pragma once
// Runtime routing state built from the config: one HostState per upstream (health and load, shared by all
// workers) and one Group per public model (its deployments, balancer, retry budget and fallback chain).
#include <atomic>
#include <boost/container/small_vector.hpp>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "config/config.h"
#include "routing/balancer.h"
#include "routing/hedge_delay.h"
#include "routing/host_signals.h"
#include "routing/key_pacer.h"
#include "routing/outlier.h"
#include "routing/peak_ewma.h"
#include "routing/retry_budget.h"

namespace sluice::routing {

// A point-in-time view of one host for the admin API and dashboard (host_ops.cc).
struct HostStatus {
  std::string_view state;  // "healthy" | "ejected" | "probation" | "drained"
  std::int64_t in_flight = 0;
  double ewma_ttft_ms = 0;
  std::uint32_t consecutive_failures = 0;
  std::uint32_t times_ejected = 0;
  std::int64_t ejected_for_ms = 0;  // remaining ejection, 0 when not ejected
};

class HostState {
 public:
  explicit HostState(const config::Upstream& up);
  const config::Upstream& upstream() const { return up_; }

  bool available(Clock::time_point now) const;
  // Operator controls (admin API, host_ops.cc). A drained host gets no new attempts while another host of the
  // group can take them; requests already on it finish.
  void set_drained(bool on) { drained_.store(on, std::memory_order_relaxed); }
  bool drained() const { return drained_.load(std::memory_order_relaxed); }
  void force_eject(Clock::time_point now);
  HostStatus status(Clock::time_point now) const;
  // Takes over outlier state, latency estimate and drain flag from the same host of a previous router.
  void adopt(const HostState& old);
  // Records one finished attempt; returns true when it ejected the host. A run of failures ejects the host only
  // while it does clearly worse than its peers (`peer_success`: their mean recent success rate; nullopt when
  // unknown): a fault rate every host shares is for retries to absorb, not a reason to lose capacity.
  bool record(bool success, std::optional<double> ttft_ms, Clock::time_point now,
              std::optional<double> peer_success = std::nullopt);
  // Success rate over the host's last 32 attempts; nullopt with fewer than 8.
  std::optional<double> recent_success() const;
  HostLoad load(std::uint32_t weight) const;
  // With slow start applied and, when `with_report`, the load-aware cost from a fresh metrics report.
  HostLoad load(std::uint32_t weight, bool with_report, Clock::time_point now) const;

  void attempt_started() { in_flight_.fetch_add(1, std::memory_order_relaxed); }
  void attempt_finished() { in_flight_.fetch_sub(1, std::memory_order_relaxed); }
  std::uint32_t times_ejected() const;
  KeyPacer& keys() { return keys_; }

  // Point-in-time view for metrics and the admin API.
  struct Snapshot {
    OutlierDetector::State state = OutlierDetector::State::kHealthy;
    std::int64_t in_flight = 0;
    double ewma_ttft_ms = 0;  // 0 until the first sample
  };
  Snapshot snapshot(Clock::time_point now) const;

  LoadReport& load_report() { return report_; }
  const LoadReport& load_report() const { return report_; }
  ActiveHealth& active_health() { return health_; }
  std::int64_t in_flight() const { return in_flight_.load(std::memory_order_relaxed); }
  // Slow start: 0.1 → 1 over upstream.slow_start after the host came back from an ejection.
  double weight_factor(Clock::time_point now) const;
  void mark_returned(Clock::time_point now) { returned_ms_.store(steady_ms(now), std::memory_order_relaxed); }

 private:
  const config::Upstream& up_;
  OutlierPolicy policy_;
  std::atomic<bool> drained_{false};
  std::atomic<std::int64_t> in_flight_{0};
  mutable std::mutex mu_;  // guards outlier_ and ttft_: a few instructions per attempt, never held across I/O
  OutlierDetector outlier_;
  PeakEwma ttft_;
  KeyPacer keys_;  // the upstream's provider keys
  double success_ewma_ = 1.0;  // per attempt, alpha 0.1: steers P2C balancers away from hosts that fail fast
  std::uint32_t recent_ = 0;    // the last 32 attempts, newest in bit 0: 1 = success
  std::uint32_t recent_n_ = 0;  // how many of those bits are real (up to 32)
  std::optional<double> recent_locked() const;
  LoadReport report_;
  ActiveHealth health_;
  std::atomic<std::int64_t> returned_ms_{0};
};

struct Group {
  const config::Model* model = nullptr;
  std::vector<HostState*> hosts;  // parallel to model->deployments
  std::unique_ptr<Balancer> balancer;
  std::unique_ptr<RetryBudget> budget;
  std::vector<const Group*> fallbacks;
  std::unique_ptr<HedgeDelay> hedge;  // null when the model does not hedge
};

// One flag per host of a group (e.g. "tried"); inline for up to 8 hosts, so a request allocates none.
using HostMask = boost::container::small_vector<bool, 8>;

class Router {
 public:
  explicit Router(const config::Config& cfg);
  // Hot reload (host_ops.cc): health carried over from the previous router for upstreams whose name and
  // address did not change.
  void adopt_health(const Router& old);
  const Group* group(std::string_view model) const;
  HostState* host(std::string_view upstream) const;  // null for an unknown name

  // A deployment index of `g`: healthy and untried first, then healthy (retrying a host), then — when every
  // host is ejected — any host (panic mode: never refuse traffic because of ejections alone).
  // `affinity_key` (non-zero, with prefix affinity on): the request's prompt-prefix hash; the first pick
  // prefers the host that key hashes to (rendezvous hashing) unless that host is overloaded.
  std::size_t pick(const Group& g, const HostMask& tried, std::mt19937_64& rng, Clock::time_point now,
                   std::uint64_t affinity_key = 0) const;

  const std::map<std::string, std::unique_ptr<HostState>, std::less<>>& hosts() const { return hosts_; }
  const std::map<std::string, std::unique_ptr<Group>, std::less<>>& groups() const { return groups_; }

 private:
  std::map<std::string, std::unique_ptr<HostState>, std::less<>> hosts_;
  std::map<std::string, std::unique_ptr<Group>, std::less<>> groups_;
};

}  // namespace sluice::routing
