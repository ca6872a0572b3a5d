#include "cache/shared_lookup.h"

#include "cache/shape.h"
#include "cache/tiered_cache.h"
#include "state/flight_lock.h"

namespace sluice::cache {

namespace {
// A shared hit ends this replica's flight: its joiners replay the answer, and later requests hit the LRU.
void hand_over(CacheServices& svc, CacheTicket& t, const CachedAnswer& a) {
  Flight& f = *t.flight;
  if (t.stream) {
    f.on_event(a.upstream, a.sse_main, false);
    if (!a.sse_usage.empty()) {
      f.on_event(a.upstream, a.sse_usage, true);
    }
    f.on_event(a.upstream, kSseDone, false);
  } else {
    f.on_body(a.upstream, a.json);
  }
  f.set_usage(a.usage, a.upstream_model);
  if (t.registered) {
    svc.flights.remove(t.flight_key(), &f);
  }
  f.finish(FlightState::kDone);
  t.flight.reset();
  t.leader = false;
  t.registered = false;
}
}  // namespace

net::awaitable<CacheDecision> lookup_shared(CacheServices& svc, CacheTicket& t, std::string_view model,
                                            std::chrono::steady_clock::time_point deadline) {
  t.check_shared = false;
  auto& tiered = static_cast<TieredCache&>(*svc.store);
  Lookup hit = co_await tiered.fetch(t.key, CacheClock::now(), false);
  state::FlightLock* lock = svc.shared ? svc.shared->flight_lock() : nullptr;
  if (!hit.answer && t.leader && t.registered && lock != nullptr) {
    const std::string key = t.flight_key();
    const state::FlightLock::Role role = co_await lock->lead(key);
    t.replica_leader = role == state::FlightLock::Role::kLeader;
    if (role == state::FlightLock::Role::kFollower) {
      co_await lock->wait(key, deadline);
      hit = co_await tiered.fetch(t.key, CacheClock::now(), false);
      if (hit.answer) {
        svc.stats.count_coalesced(model);  // another replica's upstream call answered it
      }
    }
  }
  if (!hit.answer) {
    co_return go_upstream(svc, t);  // the other replica failed, or nobody had it: this request leads
  }
  if (t.flight && t.leader) {
    hand_over(svc, t, *hit.answer);
  }
  svc.stats.hit->inc();
  t.header = "hit";
  co_return CacheDecision{CacheStep::kHit, std::move(hit)};
}

SharedRelease::~SharedRelease() {
  if (t.replica_leader) {
    t.replica_leader = false;
    svc.shared->flight_lock()->done(t.flight_key(), true);
  }
}

}  // namespace sluice::cache
