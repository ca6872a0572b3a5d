#include "gateway/cache_path.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <ctime>

#include "cache/key.h"
#include "cache/shape.h"
#include "common/coarse_clock.h"
#include "gateway/gateway.h"
#include "http/openai_error.h"
#include "ledger/pricing.h"

namespace sluice::gateway {

namespace {
using cache::FlightState;

std::int64_t unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(CoarseWallClock::now().time_since_epoch())
      .count();
}

// The id the upstream knows the answering model by (prices are per upstream model).
std::string upstream_model_of(const PlanResult& plan) {
  if (!plan.answered_by || !plan.upstream) {
    return {};
  }
  for (const auto& d : plan.answered_by->deployments) {
    if (d.upstream == plan.upstream->name) {
      return d.upstream_model;
    }
  }
  return plan.answered_by->name;
}

void record(CacheServices& svc, const config::Config& cfg, std::string_view source, std::string_view key_name,
            std::string_view model, std::string_view upstream, const std::string& upstream_model, bool stream,
            const http::Responder& res, const std::optional<openai::Usage>& usage) {
  const openai::Usage u = usage.value_or(openai::Usage{});
  const auto now_ms = unix_ms();
  const double price =
      ledger::cost_usd(cfg.pricing, upstream_model, u, static_cast<std::time_t>(now_ms / 1000));
  const bool billed = source == "upstream";
  if (auto* m = svc.stats.money_for(key_name, model, upstream)) {
    (billed ? m->cost : m->savings)->inc(price);
  }
  if (!svc.ledger) {
    return;
  }
  ledger::UsageRecord r;
  r.ts_ms = now_ms;
  r.key = key_name;
  r.model = model;
  r.upstream = upstream;
  r.upstream_model = upstream_model;
  r.source = source;
  r.stream = stream;
  r.status = res.status();
  r.prompt = u.prompt_tokens;
  r.completion = u.completion_tokens;
  r.cache_hit = u.prompt_cache_hit_tokens;
  r.cache_miss = u.prompt_cache_miss_tokens;
  r.reasoning = u.reasoning_tokens;
  (billed ? r.cost_usd : r.savings_usd) = price;
  svc.ledger->record(r);
}

bool send_stream_head(http::Responder& res) {
  res.start_stream(bhttp::status::ok, "text/event-stream; charset=utf-8", "no-cache");
  return !res.broken();
}

net::awaitable<void> replay(const cache::CachedAnswer& a, bool stream, bool include_usage,
                            http::Responder& res) {
  if (!stream) {
    http::Response r{bhttp::status::ok, 11};
    r.set(bhttp::field::content_type, "application/json");
    r.body() = a.json;
    co_await res.send(std::move(r));
    co_return;
  }
  std::string body;
  body.reserve(a.sse_main.size() + a.sse_usage.size() + cache::kSseDone.size());
  body += a.sse_main;
  if (include_usage) {
    body += a.sse_usage;
  }
  body += cache::kSseDone;
  if (send_stream_head(res)) {
    co_await res.send_chunk(net::buffer(body), true);
  }
}

// The error a failed flight's joiners get: the same one the leader's client got.
void failure_answer(const AttemptOutcome& o, unsigned& status, std::string& body) {
  const FailureInfo& info = describe(o.failure);
  if (o.upstream_status >= 400 && o.failure != UpstreamFailure::kAuthRejected) {
    status = o.upstream_status;
    body = o.error_body.starts_with('{') && o.error_body.find("\"error\"") != std::string::npos &&
                   openai::is_valid_json(o.error_body)
               ? o.error_body
               : http::openai_error_body(fmt::format("{} (HTTP {})", info.message, o.upstream_status),
                                         info.type, info.name);
    return;
  }
  status = info.status;
  body = http::openai_error_body(info.message, info.type, info.name);
}

constexpr std::string_view kBrokenTail =
    "data: {\"error\":{\"message\":\"the shared upstream stream "
    "failed\",\"type\":\"server_error\",\"param\":null,"
    "\"code\":\"upstream_reset\"}}\n\ndata: [DONE]\n\n";

// Joins another request's upstream call. kServed when this client got an answer (or left).
enum class Follow { kServed, kRunOwn };
net::awaitable<Follow> follow(cache::Flight& f, const CacheTicket& t, const routing::Group& group,
                              http::Responder& res) {
  auto w = f.join(co_await net::this_coro::executor);
  struct Leave {
    cache::Flight& f;
    std::shared_ptr<cache::Wakeup>& w;
    http::Responder& res;
    ~Leave() {
      res.unwatch();
      f.leave(w);
    }
  } leave{f, w, res};
  res.watch_client([w] { w->cancel(); });
  res.set_header("x-sluice-model", group.model->name);
  res.set_header("x-sluice-coalesced", "true");
  std::size_t next = 0;
  bool started = false;
  for (;;) {
    cache::FlightView v = f.read(next, t.include_usage);
    next = v.next_event;
    if (!v.upstream.empty()) {
      res.set_header("x-sluice-upstream", v.upstream);
    }
    if (v.state == FlightState::kFailed || v.state == FlightState::kAbandoned) {
      if (started) {
        if (co_await res.send_chunk(net::buffer(kBrokenTail))) {
          co_await res.finish_stream();
        }
        co_return Follow::kServed;
      }
      if (v.state == FlightState::kAbandoned) {
        co_return Follow::kRunOwn;  // the leader left before any answer: go upstream ourselves
      }
      http::Response r{static_cast<bhttp::status>(v.status), 11};
      r.set(bhttp::field::content_type, "application/json");
      if (!v.retry_after.empty()) {
        r.set(bhttp::field::retry_after, v.retry_after);
      }
      r.body() = std::move(v.error_body);
      co_await res.send(std::move(r));
      co_return Follow::kServed;
    }
    if (t.stream && !v.bytes.empty()) {
      if (!started && !send_stream_head(res)) {
        co_return Follow::kServed;
      }
      started = true;
      if (!co_await res.send_chunk(net::buffer(v.bytes))) {
        co_return Follow::kServed;
      }
    }
    if (v.state == FlightState::kDone) {
      if (t.stream) {
        co_await res.finish_stream();
      } else {
        http::Response r{bhttp::status::ok, 11};
        r.set(bhttp::field::content_type, "application/json");
        r.body() = std::move(v.bytes);
        co_await res.send(std::move(r));
      }
      co_return Follow::kServed;
    }
    if (res.broken()) {
      co_return Follow::kServed;
    }
    co_await w->async_receive(use_tuple);
    if (res.broken()) {
      co_return Follow::kServed;
    }
  }
}

bool truncated(const cache::CachedAnswer& a) {
  return a.json.find("\"finish_reason\":\"insufficient_system_resource\"") != std::string::npos;
}
}  // namespace

CacheStats::Money* CacheStats::money_for(std::string_view key, std::string_view model,
                                         std::string_view upstream) {
  auto it = money.find(std::make_tuple(key, model, upstream));
  return it == money.end() ? nullptr : &it->second;
}

CacheServices::~CacheServices() {
  if (collector) {
    telemetry::metrics().remove_collector(collector);
  }
}

namespace {
void register_metrics(const config::Config& cfg, CacheServices& svc) {
  auto& reg = telemetry::metrics();
  auto& requests = reg.counter("sluice_cache_requests_total",
                               "Cacheable-request outcomes at the response cache", {"result"});
  svc.stats.hit = &requests.with({"hit"});
  svc.stats.miss = &requests.with({"miss"});
  svc.stats.bypass = &requests.with({"bypass"});
  svc.stats.stale = &requests.with({"stale"});
  auto& coalesced = reg.counter("sluice_coalesced_total",
                                "Requests answered by another request's upstream call", {"model"});
  auto& cost = reg.counter("sluice_cost_usd_total", "Upstream cost of answers, from the price table",
                           {"key", "model", "upstream"});
  auto& savings = reg.counter("sluice_savings_usd_total", "Cost avoided by cached and coalesced answers",
                              {"key", "model", "upstream"});
  std::vector<std::string> keys;
  for (const auto& k : cfg.keys) {
    keys.push_back(k.name);
  }
  if (keys.empty()) {
    keys.emplace_back();
  }
  for (const auto& [name, m] : cfg.models) {
    svc.stats.coalesced.emplace(name, &coalesced.with({name}));
    for (const auto& d : m.deployments) {
      for (const auto& k : keys) {
        svc.stats.money.try_emplace(
            std::make_tuple(k, name, d.upstream),
            CacheStats::Money{&cost.with({k, name, d.upstream}), &savings.with({k, name, d.upstream})});
      }
    }
  }
  auto& bytes = reg.gauge("sluice_cache_bytes", "Bytes held by the response cache").with({});
  auto& entries = reg.gauge("sluice_cache_entries", "Answers held by the response cache").with({});
  if (svc.store) {
    svc.collector = reg.add_collector([&bytes, &entries, store = svc.store.get()] {
      bytes.set(double(store->bytes()));
      entries.set(double(store->entries()));
    });
  }
}
}  // namespace

std::unique_ptr<CacheServices> make_cache_services(const config::Config& cfg, std::string& error,
                                                   const CacheServices* prev, const config::Config* prev_cfg) {
  auto svc = std::make_unique<CacheServices>();
  const bool same_cache = prev && prev_cfg && prev_cfg->cache == cfg.cache;
  const bool same_ledger = prev && prev_cfg && prev_cfg->ledger == cfg.ledger;
  if (same_cache) {
    svc->store = prev->store;
  } else if (cfg.cache.enabled) {
    // Enough shards for concurrency, but each must still hold a largest entry several times over.
    std::size_t shards =
        std::clamp<std::size_t>(cfg.cache.max_bytes / (4 * cfg.cache.max_entry_bytes), 1, 16);
    svc->store =
        std::make_unique<cache::MemoryCache>(cfg.cache.max_bytes, cfg.cache.ttl, cfg.cache.stale_ttl, shards);
  }
  register_metrics(cfg, *svc);
  if (same_ledger) {
    svc->ledger = prev->ledger;
  } else if (cfg.ledger.enabled) {
    svc->ledger = ledger::Ledger::open(cfg.ledger, error);
    if (!svc->ledger) {
      return nullptr;
    }
  }
  return svc;
}

CacheTicket cache_admit(CacheServices& svc, const config::Config& cfg, bool chat, std::string_view path,
                        const routing::Group& group, std::string_view key_name, const http::Request& req,
                        std::string_view body, const openai::RequestView& view) {
  CacheTicket t;
  t.stream = view.stream;
  t.include_usage = view.include_usage;
  if (!svc.store || !chat) {
    return t;
  }
  auto cc = cache::parse_cache_control(req[bhttp::field::cache_control]);
  const auto& opt_in = cfg.cache.opt_in_keys;
  const bool any_temperature = cfg.cache.cache_nondeterministic ||
                               std::find(opt_in.begin(), opt_in.end(), key_name) != opt_in.end();
  // Decided before the key: most traffic is not cacheable, and the canonical key costs a parse and a hash.
  if (!(view.zero_temperature || any_temperature) || cc.no_store) {
    svc.stats.bypass->inc();
    return t;
  }
  auto key = cache::request_key(path, group.model->name, body);
  if (!key) {
    svc.stats.bypass->inc();
    return t;
  }
  t.key = std::move(key->digest);
  t.may_read = !cc.no_cache;
  t.may_store = true;
  t.header = t.may_read ? "miss" : "bypass";
  return t;
}

bool cache_may_answer(const CacheTicket& t, http::Responder& res) {
  if (t.key.empty()) {
    res.set_header("x-sluice-cache", std::string(t.header));
    return false;
  }
  return true;
}

net::awaitable<std::string_view> cache_answer(CacheServices& svc, const config::Config& cfg, CacheTicket& t,
                                              const routing::Group& group, std::string_view key_name,
                                              http::Responder& res) {
  if (!cache_may_answer(t, res)) {
    co_return std::string_view{};
  }
  if (t.may_read) {
    auto hit = svc.store->get(t.key, cache::CacheClock::now(), false);
    if (hit.answer) {
      svc.stats.hit->inc();
      res.set_header("x-sluice-cache", "hit");
      res.set_header("x-sluice-model", group.model->name);
      res.set_header("x-sluice-upstream", hit.answer->upstream);
      co_await replay(*hit.answer, t.stream, t.include_usage, res);
      record(svc, cfg, "cache", key_name, group.model->name, hit.answer->upstream, hit.answer->upstream_model,
             t.stream, res, hit.answer->usage);
      co_return "cache_hit";
    }
  }
  if (t.may_read && cfg.cache.coalesce) {
    t.flight = svc.flights.lead_or_join(t.key + (t.stream ? "/s" : "/j"), t.stream, t.leader);
    t.registered = t.leader;
    if (!t.leader) {
      // A flight whose answer is already complete (its leader is just storing it) serves like a hit.
      res.set_header("x-sluice-cache", t.flight->complete() ? "hit" : "miss");
      auto r = co_await follow(*t.flight, t, group, res);
      if (r == Follow::kServed) {
        if (auto it = svc.stats.coalesced.find(group.model->name); it != svc.stats.coalesced.end()) {
          it->second->inc();
        }
        auto v = t.flight->read(0, false);
        record(svc, cfg, "coalesced", key_name, group.model->name, v.upstream, v.upstream_model, t.stream,
               res, v.usage);
        co_return "coalesced";
      }
      t.flight.reset();  // run our own upstream call, uncoalesced
      t.header = "bypass";
    }
  }
  if (!t.flight) {
    t.flight = std::make_shared<cache::Flight>(t.stream);  // the tee that fills the cache
    t.leader = true;
  }
  (t.header == "miss" ? svc.stats.miss : svc.stats.bypass)->inc();
  res.set_header("x-sluice-cache", std::string(t.header));
  co_return std::string_view{};
}

net::awaitable<bool> cache_settle(CacheServices& svc, const config::Config& cfg, CacheTicket& t,
                                  const routing::Group& group, std::string_view key_name,
                                  const PlanResult& plan, http::Responder& res) {
  if (!t.settles()) {
    co_return false;
  }
  const AttemptOutcome& out = plan.out;
  cache::Flight& f = *t.flight;
  const bool complete = f.complete() && (out.failure == UpstreamFailure::kNone || res.broken());
  std::string flight_key = t.key + (t.stream ? "/s" : "/j");
  if (complete) {
    std::string up_model = upstream_model_of(plan);
    f.set_usage(out.usage, up_model);
    if (t.may_store) {
      auto answer = t.stream ? cache::answer_from_sse(f.stream_bytes()) : cache::answer_from_json(f.body());
      if (answer && !truncated(*answer) && answer->bytes() <= cfg.cache.max_entry_bytes) {
        answer->upstream = plan.upstream ? plan.upstream->name : "";
        answer->upstream_model = up_model;
        if (out.usage) {
          answer->usage = *out.usage;
        }
        svc.store->put(t.key, std::make_shared<const cache::CachedAnswer>(std::move(*answer)),
                       cache::CacheClock::now());
      }
    }
    if (t.registered) {
      svc.flights.remove(flight_key, &f);
    }
    f.finish(FlightState::kDone);
    co_return false;
  }
  if (t.registered) {
    svc.flights.remove(flight_key, &f);
  }
  if (res.broken() || (out.failure == UpstreamFailure::kNone && !out.committed)) {
    f.finish(FlightState::kAbandoned);
    co_return false;
  }
  unsigned status = 0;
  std::string body;
  failure_answer(out, status, body);
  // Degradation: an expired answer is better than an error when every upstream failed.
  if (!out.committed && cfg.cache.stale_ttl.count() > 0 && !t.key.empty()) {
    auto old = svc.store->get(t.key, cache::CacheClock::now(), true);
    if (old.answer) {
      f.finish(FlightState::kAbandoned);  // joiners go upstream themselves (or hit the stale path too)
      svc.stats.stale->inc();
      res.set_header("x-sluice-cache", old.stale ? "stale" : "hit");
      res.set_header("x-sluice-upstream", old.answer->upstream);
      co_await replay(*old.answer, t.stream, t.include_usage, res);
      record(svc, cfg, "stale", key_name, group.model->name, old.answer->upstream, old.answer->upstream_model,
             t.stream, res, old.answer->usage);
      co_return true;
    }
  }
  f.finish(out.committed ? FlightState::kAbandoned : FlightState::kFailed, status, std::move(body),
           out.retry_after);
  co_return false;
}

void record_upstream_usage(CacheServices& svc, const config::Config& cfg, std::string_view key_name,
                           const routing::Group& group, const PlanResult& plan, bool stream,
                           const http::Responder& res) {
  if (plan.attempts == 0) {
    return;
  }
  record(svc, cfg, "upstream", key_name, plan.answered_by ? plan.answered_by->name : group.model->name,
         plan.upstream ? std::string_view(plan.upstream->name) : std::string_view{}, upstream_model_of(plan),
         stream, res, plan.out.usage);
}

}  // namespace sluice::gateway
