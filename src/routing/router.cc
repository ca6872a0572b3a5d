#include "routing/router.h"

namespace sluice::routing {

namespace {
BalancerKind kind_of(config::Balancer b) {
  switch (b) {
    case config::Balancer::kRoundRobin: return BalancerKind::kRoundRobin;
    case config::Balancer::kWeightedRandom: return BalancerKind::kWeightedRandom;
    case config::Balancer::kLeastRequest: return BalancerKind::kLeastRequest;
    case config::Balancer::kPeakEwma: return BalancerKind::kPeakEwma;
  }
  return BalancerKind::kPeakEwma;
}
}  // namespace

HostState::HostState(const config::Upstream& up)
    : up_(up),
      policy_{up.outlier_consecutive_failures, up.outlier_base_ejection, up.outlier_max_ejection},
      keys_(up.name, up.api_key_envs, up.key_pacing) {}

bool HostState::available(Clock::time_point now) const {
  std::lock_guard lock(mu_);
  return outlier_.available(now);
}

bool HostState::record(bool success, std::optional<double> ttft_ms, Clock::time_point now) {
  std::lock_guard lock(mu_);
  if (ttft_ms) {
    ttft_.observe(*ttft_ms, now);
  }
  if (success) {
    outlier_.on_success(now);
    return false;
  }
  return outlier_.on_failure(policy_, now);
}

HostLoad HostState::load(std::uint32_t weight) const {
  std::lock_guard lock(mu_);
  return HostLoad{weight, in_flight_.load(std::memory_order_relaxed), ttft_.value()};
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
        RetryBudgetPolicy{model.retry.budget_ratio, model.retry.budget_min, 10, model.retry.throttle_ratio});
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

std::size_t Router::pick(const Group& g, const std::vector<bool>& tried, std::mt19937_64& rng,
                         Clock::time_point now) const {
  const std::size_t n = g.hosts.size();
  std::vector<std::size_t> candidates;
  candidates.reserve(n);
  std::vector<bool> avail(n);
  std::vector<bool> drained(n);
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
  std::vector<HostLoad> loads(n);
  for (std::size_t i : candidates) {
    loads[i] = g.hosts[i]->load(g.model->deployments[i].weight);
  }
  return g.balancer->pick(candidates, loads, rng);
}

}  // namespace sluice::routing
