#include "routing/router.h"

#include <bit>

#include <algorithm>
#include <boost/container/small_vector.hpp>

#include "routing/affinity.h"
#include "routing/load_score.h"

namespace sluice::routing {

namespace {
BalancerKind kind_of(config::Balancer b) {
  switch (b) {
    case config::Balancer::kRoundRobin: return BalancerKind::kRoundRobin;
    case config::Balancer::kWeightedRandom: return BalancerKind::kWeightedRandom;
    case config::Balancer::kLeastRequest: return BalancerKind::kLeastRequest;
    case config::Balancer::kPeakEwma: return BalancerKind::kPeakEwma;
    case config::Balancer::kLoadAware: return BalancerKind::kLoadAware;
  }
  return BalancerKind::kPeakEwma;
}
constexpr double kSuccessAlpha = 0.1;
// Fewer recent attempts than this say nothing about a host's success rate.
constexpr std::uint32_t kMinRecent = 8;
// A host is ejected for a run of failures only when its recent success rate is this far below its peers'.
constexpr double kEjectMargin = 0.3;
constexpr double kFailurePenaltyMinMs = 250;
constexpr double kFailurePenaltyMaxMs = 30'000;

HedgePolicy hedge_policy(const config::HedgeConfig& h) {
  HedgePolicy p;
  p.fixed = h.delay;
  p.quantile = double(h.quantile) / 100.0;
  p.min = h.min_delay;
  p.max = h.max_delay;
  p.min_samples = h.min_samples;
  return p;
}
}  // namespace

HostState::HostState(const config::Upstream& up)
    : up_(up),
      policy_{up.outlier_consecutive_failures, up.outlier_base_ejection, up.outlier_max_ejection},
      keys_(up.name, up.api_key_envs, up.key_pacing) {}

bool HostState::available(Clock::time_point now) const {
  if (health_.failing.load(std::memory_order_relaxed)) {
    return false;
  }
  std::lock_guard lock(mu_);
  return outlier_.available(now);
}

std::optional<double> HostState::recent_success() const {
  std::lock_guard lock(mu_);
  return recent_locked();
}

std::optional<double> HostState::recent_locked() const {
  if (recent_n_ < kMinRecent) {
    return std::nullopt;
  }
  const std::uint32_t mask = recent_n_ >= 32 ? ~0u : (1u << recent_n_) - 1;
  return double(std::popcount(recent_ & mask)) / double(recent_n_);
}

bool HostState::record(bool success, std::optional<double> ttft_ms, Clock::time_point now,
                       std::optional<double> peer_success) {
  std::lock_guard lock(mu_);
  success_ewma_ += kSuccessAlpha * ((success ? 1.0 : 0.0) - success_ewma_);
  recent_ = (recent_ << 1) | (success ? 1u : 0u);
  recent_n_ = std::min<std::uint32_t>(recent_n_ + 1, 32);
  if (ttft_ms) {
    ttft_.observe(*ttft_ms, now);
  } else if (!success) {
    // A fast failure (503, refused, reset) has no first token, yet it must not make the host look cheap: the
    // latency estimate takes a penalty, so latency-based balancing steers away from hosts that fail quickly.
    ttft_.observe(std::clamp(2 * ttft_.value(), kFailurePenaltyMinMs, kFailurePenaltyMaxMs), now);
  }
  if (success) {
    if (outlier_.state(now) == OutlierDetector::State::kProbation) {
      mark_returned(now);  // back from an ejection: slow start begins
    }
    outlier_.on_success(now);
    return false;
  }
  const std::optional<double> own = recent_locked();
  const bool worse_than_peers = !peer_success || !own || *own < *peer_success - kEjectMargin;
  return outlier_.on_failure(policy_, now, worse_than_peers);
}

HostLoad HostState::load(std::uint32_t weight) const {
  std::lock_guard lock(mu_);
  HostLoad h{weight, in_flight_.load(std::memory_order_relaxed), ttft_.value()};
  h.success_rate = success_ewma_;
  return h;
}

HostLoad HostState::load(std::uint32_t weight, bool with_report, Clock::time_point now) const {
  HostLoad h = load(weight);
  h.weight_factor = weight_factor(now);
  if (!with_report) {
    return h;
  }
  // A report older than three scrape intervals is not trusted (the scraper cannot reach the host).
  const auto at = report_.at_ms.load(std::memory_order_relaxed);
  const auto max_age = 3 * up_.load_metrics.interval.count() + 500;
  if (at == 0 || steady_ms(now) - at > max_age) {
    return h;
  }
  LoadInputs in;
  in.running = report_.running.load(std::memory_order_relaxed);
  in.waiting = report_.waiting.load(std::memory_order_relaxed);
  in.kv_usage = report_.kv_usage.load(std::memory_order_relaxed);
  in.capacity = report_.capacity.load(std::memory_order_relaxed);
  in.sent_since_scrape = double(h.in_flight - report_.in_flight_at_scrape.load(std::memory_order_relaxed));
  in.ttft_ewma_ms = h.ttft_ewma_ms;
  h.load_cost = load_cost(in);
  return h;
}

double HostState::weight_factor(Clock::time_point now) const {
  const auto ramp = up_.slow_start.count();
  const auto back = returned_ms_.load(std::memory_order_relaxed);
  if (ramp <= 0 || back == 0) {
    return 1.0;
  }
  const double t = double(steady_ms(now) - back) / double(ramp);
  return t >= 1 ? 1.0 : 0.1 + 0.9 * std::max(0.0, t);
}

std::uint32_t HostState::times_ejected() const {
  std::lock_guard lock(mu_);
  return outlier_.times_ejected();
}

HostState::Snapshot HostState::snapshot(Clock::time_point now) const {
  std::lock_guard lock(mu_);
  return Snapshot{outlier_.state(now), in_flight_.load(std::memory_order_relaxed), ttft_.value()};
}

Router::Router(const config::Config& cfg) {
  for (const auto& [name, up] : cfg.upstreams) {
    hosts_.emplace(name, std::make_unique<HostState>(up));
  }
  for (const auto& [name, model] : cfg.models) {
    auto g = std::make_unique<Group>();
    g->model = &model;
    for (const auto& d : model.deployments) {
      g->hosts.push_back(hosts_.at(d.upstream).get());
    }
    g->balancer = std::make_unique<Balancer>(kind_of(model.balancer));
    g->budget = std::make_unique<RetryBudget>(
        RetryBudgetPolicy{model.retry.throttle_k, model.retry.throttle_window, model.retry.throttle_min_attempts});
    if (model.hedge.enabled) {
      g->hedge = std::make_unique<HedgeDelay>(hedge_policy(model.hedge));
    }
    groups_.emplace(name, std::move(g));
  }
  for (auto& [name, g] : groups_) {
    for (const auto& fb : g->model->fallbacks) {
      if (auto it = groups_.find(fb); it != groups_.end()) {
        g->fallbacks.push_back(it->second.get());
      }
    }
  }
}

const Group* Router::group(std::string_view model) const {
  auto it = groups_.find(model);
  return it == groups_.end() ? nullptr : it->second.get();
}

HostState* Router::host(std::string_view upstream) const {
  auto it = hosts_.find(upstream);
  return it == hosts_.end() ? nullptr : it->second.get();
}

std::size_t Router::pick(const Group& g, const HostMask& tried, std::mt19937_64& rng, Clock::time_point now,
                         std::uint64_t affinity_key) const {
  const std::size_t n = g.hosts.size();
  // Inline storage: a pick runs once per attempt, and groups rarely exceed a handful of hosts.
  boost::container::small_vector<std::size_t, 8> candidates;
  HostMask avail(n);
  HostMask drained(n);
  for (std::size_t i = 0; i < n; ++i) {
    drained[i] = g.hosts[i]->drained();
    avail[i] = !drained[i] && g.hosts[i]->available(now);
  }
  auto collect = [&](auto&& pred) {
    for (std::size_t i = 0; i < n; ++i) {
      if (pred(i)) {
        candidates.push_back(i);
      }
    }
    return !candidates.empty();
  };
  collect([&](std::size_t i) { return avail[i] && !tried[i]; }) ||
      collect([&](std::size_t i) { return avail[i]; }) ||
      collect([&](std::size_t i) { return !drained[i] && !tried[i]; }) ||  // drained hosts only when all are
      collect([&](std::size_t i) { return !drained[i]; }) || collect([&](std::size_t i) { return !tried[i]; }) ||
      collect([](std::size_t) { return true; });
  boost::container::small_vector<HostLoad, 8> loads(n);
  const bool reports = g.balancer->kind() == BalancerKind::kLoadAware;
  for (std::size_t i : candidates) {
    loads[i] = g.hosts[i]->load(g.model->deployments[i].weight, reports, now);
  }
  if (affinity_key != 0 && g.model->affinity.prefix_bytes > 0) {
    if (auto a = affinity_pick(candidates, loads, affinity_key, g.model->affinity.overload_factor)) {
      return *a;
    }
  }
  return g.balancer->pick(candidates, loads, rng);
}

}  // namespace sluice::routing
