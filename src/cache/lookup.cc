#include "cache/lookup.h"

#include <algorithm>

#include "cache/key.h"
#include "cache/shape.h"
#include "cache/shared_lookup.h"

namespace sluice::cache {

namespace {
bool truncated(const CachedAnswer& a) {
  return a.json.find("\"finish_reason\":\"insufficient_system_resource\"") != std::string::npos;
}

// Decided before the key: most traffic is not cacheable, and the canonical key costs a parse and a hash.
bool cacheable(const CacheServices& svc, const config::Config& cfg, const CacheRequest& req,
               const CacheControl& cc) {
  if (!svc.store || !req.chat) {
    return false;
  }
  const auto& opt_in = cfg.cache.opt_in_keys;
  const bool any_temperature = cfg.cache.cache_nondeterministic ||
                               std::find(opt_in.begin(), opt_in.end(), req.key_name) != opt_in.end();
  return (req.view.zero_temperature || any_temperature) && !cc.no_store;
}

}  // namespace

CacheDecision go_upstream(CacheServices& svc, CacheTicket& t) {
  if (!t.flight) {
    t.flight = std::make_shared<Flight>(t.stream);
    t.leader = true;
  }
  (t.header == "miss" ? svc.stats.miss : svc.stats.bypass)->inc();
  return {};
}

CacheDecision lookup(CacheServices& svc, const config::Config& cfg, const CacheRequest& req, CacheTicket& t) {
  t.stream = req.view.stream;
  t.include_usage = req.view.include_usage;
  if (!svc.store || !req.chat) {
    return {};
  }
  const CacheControl cc = parse_cache_control(req.cache_control);
  auto key = cacheable(svc, cfg, req, cc) ? request_key(req.path, req.model, req.body) : std::nullopt;
  if (!key) {
    svc.stats.bypass->inc();
    return {};
  }
  t.key = std::move(key->digest);
  t.may_read = !cc.no_cache;
  t.may_store = true;
  t.header = t.may_read ? "miss" : "bypass";
  if (t.may_read) {
    if (auto hit = svc.store->get(t.key, CacheClock::now(), false); hit.answer) {
      svc.stats.hit->inc();
      t.header = "hit";
      return {CacheStep::kHit, std::move(hit)};
    }
    if (cfg.cache.coalesce) {
      t.flight = svc.flights.lead_or_join(t.flight_key(), t.stream, t.leader);
      t.registered = t.leader;
      if (!t.leader) {
        // A flight whose answer is already complete (its leader is just storing it) serves like a hit.
        t.header = t.flight->complete() ? "hit" : "miss";
        return {CacheStep::kJoin, {}};
      }
    }
    if (svc.store->remote()) {
      t.check_shared = true;  // state hook: lookup_shared() reads the shared tier, then counts
      return {};
    }
  }
  return go_upstream(svc, t);
}

void run_own(CacheServices& svc, CacheTicket& t) {
  t.flight.reset();
  t.leader = false;
  t.header = "bypass";
  go_upstream(svc, t);
}

std::optional<Lookup> settle(CacheServices& svc, const config::Config& cfg, CacheTicket& t, UpstreamEnd end) {
  if (!t.settles()) {
    return std::nullopt;
  }
  const SharedRelease release{svc, t};  // state hook: other replicas' followers wake once this is stored
  Flight& f = *t.flight;
  if (f.complete() && (end.ok || end.client_gone)) {
    f.set_usage(end.usage, end.upstream_model);
    if (t.may_store) {
      auto answer = t.stream ? answer_from_sse(f.stream_bytes()) : answer_from_json(f.body());
      if (answer && !truncated(*answer) && answer->bytes() <= cfg.cache.max_entry_bytes) {
        answer->upstream = std::string(end.upstream);
        answer->upstream_model = end.upstream_model;
        if (end.usage) {
          answer->usage = *end.usage;
        }
        svc.store->put(t.key, std::make_shared<const CachedAnswer>(std::move(*answer)), CacheClock::now());
      }
    }
    if (t.registered) {
      svc.flights.remove(t.flight_key(), &f);
    }
    f.finish(FlightState::kDone);
    return std::nullopt;
  }
  if (t.registered) {
    svc.flights.remove(t.flight_key(), &f);
  }
  if (end.client_gone || (end.ok && !end.committed)) {
    f.finish(FlightState::kAbandoned);
    return std::nullopt;
  }
  // Degradation: an expired answer is better than an error when every upstream failed.
  if (!end.committed && cfg.cache.stale_ttl.count() > 0 && !t.key.empty()) {
    if (auto old = svc.store->get(t.key, CacheClock::now(), true); old.answer) {
      f.finish(FlightState::kAbandoned);  // joiners go upstream themselves (or hit the stale path too)
      svc.stats.stale->inc();
      t.header = old.stale ? "stale" : "hit";
      return old;
    }
  }
  f.finish(end.committed ? FlightState::kAbandoned : FlightState::kFailed, end.status,
           std::move(end.error_body), std::move(end.retry_after));
  return std::nullopt;
}

}  // namespace sluice::cache
