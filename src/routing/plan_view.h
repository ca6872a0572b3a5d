#pragma once
// The planner's view of a request's groups, backed by the live router: balancer picks, host health, key
// pacing, the groups' retry budgets and hedge delays.
#include <boost/container/small_vector.hpp>
#include <cstdint>
#include <random>

#include "routing/planner.h"
#include "routing/router.h"

namespace sluice::routing {

// `root` and its fallbacks, depth first, each group once.
using GroupChain = boost::container::small_vector<const Group*, 4>;
GroupChain chain_of(const Group& root);

class RouterPlanView final : public PlanView {
 public:
  // `affinity_key`: the request's prompt-prefix hash for prefix affinity (0: none).
  RouterPlanView(const Router& router, const Group& root, std::mt19937_64& rng, std::uint64_t affinity_key)
      : router_(router), chain_(chain_of(root)), rng_(rng), affinity_(affinity_key) {}

  const Group& group(std::size_t g) const { return *chain_[g]; }

  std::size_t groups() const override { return chain_.size(); }
  const config::Model& model(std::size_t g) const override { return *chain_[g]->model; }
  std::size_t hosts(std::size_t g) const override { return chain_[g]->hosts.size(); }
  std::size_t pick(std::size_t g, const HostMask& avoid, Clock::time_point now, bool affinity) override {
    return router_.pick(*chain_[g], avoid, rng_, now, affinity ? affinity_ : 0);
  }
  bool available(std::size_t g, std::size_t host, Clock::time_point now) const override {
    return chain_[g]->hosts[host]->available(now);
  }
  bool key_headroom(std::size_t g, std::size_t host, Clock::time_point now) const override {
    return chain_[g]->hosts[host]->keys().has_headroom(now);
  }
  bool keys_refused(std::size_t g, std::size_t host, Clock::time_point now) const override {
    return chain_[g]->hosts[host]->keys().refused(now);
  }
  bool admit_retry(std::size_t g, Clock::time_point now) override {
    std::int64_t in_flight = 0;  // attempts still out on the group's hosts: evidence not in yet
    for (const HostState* h : chain_[g]->hosts) {
      in_flight += h->in_flight();
    }
    return chain_[g]->budget->try_acquire_retry(now, std::uniform_real_distribution<double>(0.0, 1.0)(rng_),
                                                in_flight);
  }
  std::optional<Clock::duration> hedge_delay(std::size_t g) const override {
    const Group& grp = *chain_[g];
    if (!grp.hedge) {
      return std::nullopt;
    }
    return grp.hedge->delay();
  }

 private:
  const Router& router_;
  GroupChain chain_;
  std::mt19937_64& rng_;
  std::uint64_t affinity_;
};

}  // namespace sluice::routing
