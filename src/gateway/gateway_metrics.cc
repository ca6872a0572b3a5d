#include "gateway/gateway_metrics.h"

#include <fmt/format.h>

#include <algorithm>
#include <mutex>

#include "http/openai_error.h"
#include "sluice/version.h"
#include "telemetry/process_metrics.h"

namespace sluice::gateway {

using telemetry::Counter;
using telemetry::Family;
using telemetry::Gauge;
using telemetry::Histogram;

void LazyCounter::inc(double v) {
  Counter* c = c_.load(std::memory_order_acquire);
  if (c == nullptr) {
    c = &f_.with(v_);  // racing threads get the same child
    c_.store(c, std::memory_order_release);
  }
  c->inc(v);
}

CountersByFailure::CountersByFailure(Family<Counter>& f, const telemetry::LabelValues& fixed) {
  for (std::size_t i = 0; i < static_cast<std::size_t>(UpstreamFailure::kCount); ++i) {
    auto values = fixed;
    auto failure = static_cast<UpstreamFailure>(i);
    values.emplace_back(failure == UpstreamFailure::kNone ? "ok" : to_string(failure));
    cells_.emplace_back(f, std::move(values));
  }
}

namespace {
constexpr std::string_view kNone = "none";

std::size_t status_class(unsigned status) { return status < 400 ? 0 : status < 500 ? 1 : 2; }

// Families with their help text in one place; every call after the first returns the same family.
Family<Counter>& requests_family(telemetry::Registry& r) {
  return r.counter("sluice_requests_total",
                   "Client requests on the OpenAI endpoints, by the model group that answered, its upstream "
                   "and status class.",
                   {"model", "upstream", "status_class"});
}
}  // namespace

GatewayMetrics::GatewayMetrics(const routing::Router& router, telemetry::Registry& reg)
    : reg_(reg),
      requests_(requests_family(reg)),
      ttft_(reg.histogram("sluice_ttft_seconds",
                          "Time to the first content byte from the upstream that answered.",
                          telemetry::kLatencyBuckets, {"model", "upstream"})),
      fallbacks_(reg.counter("sluice_fallbacks_total",
                             "Requests moved on to a fallback model group, by the failure that caused it.",
                             {"from", "to", "reason"})),
      requests_in_flight_(
          reg.gauge("sluice_requests_in_flight", "Client requests being proxied now.").with({})),
      streams_in_flight_(
          reg.gauge("sluice_streams_in_flight", "Streaming client requests being proxied now.").with({})),
      overhead_(reg.histogram("sluice_gateway_overhead_seconds",
                              "Time a proxied request spent in sluice itself: its whole duration minus upstream "
                              "attempts, retry backoff and waits for a provider key's rate-limit window.",
                              {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                               0.25, 1})
                    .with({})) {
  if (&reg == &telemetry::metrics()) {
    static std::once_flag once;
    std::call_once(once, [&] {
      telemetry::register_process_metrics(reg);
      reg.gauge("sluice_build_info", "Always 1; the version label says which sluice is running.", {"version"})
          .with({kVersion})
          .set(1);
    });
  }
  auto& attempts =
      reg.counter("sluice_upstream_attempts_total",
                  "Attempts sent to an upstream, by result: ok or the failure name.", {"upstream", "result"});
  auto& ejections = reg.counter("sluice_outlier_ejections_total",
                                "Times an upstream was ejected by outlier detection.", {"upstream"});
  for (const auto& [name, host] : router.hosts()) {
    auto& h = hosts_[&host->upstream()];
    h.attempts.emplace(attempts, telemetry::LabelValues{name});
    h.ejections = &ejections.with({name});
  }
  none_.duration = nullptr;
  add_model(kNone, nullptr);
  for (const auto& [name, g] : router.groups()) {
    add_model(name, g.get());
  }
  // Fallback pairs: from any group to any group some group falls back to.
  std::vector<const routing::Group*> targets;
  for (const auto& [name, g] : router.groups()) {
    targets.insert(targets.end(), g->fallbacks.begin(), g->fallbacks.end());
  }
  for (const auto& [name, g] : router.groups()) {
    for (const auto* t : targets) {
      if (t != g.get()) {
        models_.at(g->model).fallbacks.try_emplace(t->model, fallbacks_,
                                                   telemetry::LabelValues{name, t->model->name});
      }
    }
  }

  add_state_collector(router);
}

// Host and group state lives in the router; copy it into gauges at scrape time.
void GatewayMetrics::add_state_collector(const routing::Router& router) {
  auto& reg = reg_;
  auto& healthy = reg.gauge("sluice_upstream_healthy",
                            "1 when the upstream is healthy (not ejected, not on probation).", {"upstream"});
  auto& ejected = reg.gauge("sluice_upstream_ejected",
                            "1 while outlier detection keeps the upstream ejected.", {"upstream"});
  auto& in_flight =
      reg.gauge("sluice_upstream_in_flight", "Attempts in progress against the upstream.", {"upstream"});
  auto& ewma = reg.gauge("sluice_upstream_ewma_ttft_seconds",
                         "Peak-EWMA estimate of the upstream's time to first token.", {"upstream"});
  auto& available = reg.gauge("sluice_group_upstreams_available",
                              "Deployments of the model group whose upstream is not ejected.", {"group"});
  auto& total = reg.gauge("sluice_group_upstreams", "Deployments of the model group.", {"group"});
  auto& reject_p = reg.gauge("sluice_retry_reject_probability",
                             "Adaptive retry throttling: the share of retries, hedges and resumes the group "
                             "refuses now, max(0, (attempts - k * accepted) / (attempts + 1)) over its window.",
                             {"group"});
  auto& throttled = reg.counter("sluice_retries_throttled_total",
                                "Retries, hedges and resumes refused by adaptive throttling (since the model "
                                "group was last configured).",
                                {"group"});
  struct HostGauges {
    const routing::HostState* host;
    Gauge *healthy, *ejected, *in_flight, *ewma;
  };
  struct GroupGauges {
    const routing::Group* group;
    Gauge *available, *total, *reject_p;
    telemetry::Counter* throttled;
  };
  std::vector<HostGauges> hg;
  for (const auto& [name, host] : router.hosts()) {
    hg.push_back({host.get(), &healthy.with({name}), &ejected.with({name}), &in_flight.with({name}),
                  &ewma.with({name})});
  }
  std::vector<GroupGauges> gg;
  for (const auto& [name, g] : router.groups()) {
    gg.push_back({g.get(), &available.with({name}), &total.with({name}), &reject_p.with({name}),
                  &throttled.with({name})});
  }
  collector_ = reg.add_collector([hg = std::move(hg), gg = std::move(gg)] {
    auto now = routing::Clock::now();
    for (const auto& h : hg) {
      auto s = h.host->snapshot(now);
      h.healthy->set(s.state == routing::OutlierDetector::State::kHealthy ? 1 : 0);
      h.ejected->set(s.state == routing::OutlierDetector::State::kEjected ? 1 : 0);
      h.in_flight->set(double(s.in_flight));
      h.ewma->set(s.ewma_ttft_ms / 1000.0);
    }
    for (const auto& g : gg) {
      std::size_t up = 0;
      for (const auto* h : g.group->hosts) {
        up += h->available(now) ? 1 : 0;
      }
      g.available->set(double(up));
      g.total->set(double(g.group->hosts.size()));
      g.reject_p->set(g.group->budget->reject_probability(now));
      g.throttled->set(double(g.group->budget->throttled()));
    }
  });
}

GatewayMetrics::~GatewayMetrics() { reg_.remove_collector(collector_); }

GatewayMetrics::PerModel& GatewayMetrics::add_model(std::string_view name, const routing::Group* g) {
  PerModel& m = g ? models_[g->model] : none_;
  std::string model(name);
  m.duration = &reg_.histogram("sluice_request_duration_seconds",
                               "Client request duration, from the parsed request to the last byte sent.",
                               telemetry::kLatencyBuckets, {"model"})
                    .with({model});
  auto& tokens = reg_.counter("sluice_tokens_total",
                              "Tokens reported in upstream usage: prompt (cache hits included), completion, "
                              "reasoning (part of completion), cache_hit (part of prompt).",
                              {"model", "type"});
  std::array<const char*, 4> types{"prompt", "completion", "reasoning", "cache_hit"};
  for (std::size_t i = 0; i < types.size(); ++i) {
    m.tokens[i] = &tokens.with({model, types[i]});
  }
  m.retries.emplace(reg_.counter("sluice_retries_total",
                                 "Further attempts within a model group, by the failure of the previous one.",
                                 {"model", "reason"}),
                    telemetry::LabelValues{model});
  auto add_upstream = [&](const config::Upstream* up) {
    PerUpstream pu;
    pu.up = up;
    std::string upname(up ? std::string_view(up->name) : kNone);
    std::array<const char*, 3> classes{"2xx", "4xx", "5xx"};
    for (std::size_t i = 0; i < classes.size(); ++i) {
      pu.requests[i] = &requests_.with({model, upname, classes[i]});
    }
    if (up) {
      pu.ttft = &ttft_.with({model, upname});
    }
    m.upstreams.push_back(pu);
  };
  if (g) {
    for (const auto* h : g->hosts) {
      if (std::none_of(m.upstreams.begin(), m.upstreams.end(),
                       [&](const PerUpstream& p) { return p.up == &h->upstream(); })) {
        add_upstream(&h->upstream());
      }
    }
  }
  add_upstream(nullptr);
  return m;
}

GatewayMetrics::PerUpstream& GatewayMetrics::per_upstream(PerModel& m, const config::Upstream* up) {
  for (auto& p : m.upstreams) {
    if (p.up == up) {
      return p;
    }
  }
  return m.upstreams.back();  // "none"
}

void GatewayMetrics::on_attempt(const config::Upstream& up, UpstreamFailure result) {
  if (auto it = hosts_.find(&up); it != hosts_.end()) {
    it->second.attempts->inc(result);
  }
}

void GatewayMetrics::on_ejection(const config::Upstream& up) {
  if (auto it = hosts_.find(&up); it != hosts_.end()) {
    it->second.ejections->inc();
  }
}

void GatewayMetrics::on_next_attempt(const config::Model& from, const config::Model& to,
                                     UpstreamFailure reason) {
  auto it = models_.find(&from);
  if (it == models_.end()) {
    return;
  }
  if (&from == &to) {
    it->second.retries->inc(reason);
  } else if (auto fb = it->second.fallbacks.find(&to); fb != it->second.fallbacks.end()) {
    fb->second.inc(reason);
  }
}

void GatewayMetrics::on_request_finished(const Finished& f) {
  PerModel* m = &none_;
  if (f.model) {
    if (auto it = models_.find(f.model); it != models_.end()) {
      m = &it->second;
    }
  }
  PerUpstream& pu = per_upstream(*m, f.upstream);
  pu.requests[status_class(f.status)]->inc();
  m->duration->observe(std::chrono::duration<double>(f.elapsed).count());
  if (f.not_overhead) {
    overhead_.observe(std::chrono::duration<double>(f.elapsed - *f.not_overhead).count());
  }
  if (f.ttft && pu.ttft) {
    pu.ttft->observe(std::chrono::duration<double>(*f.ttft).count());
  }
  if (f.usage) {
    const auto& u = *f.usage;
    std::array<std::int64_t, 4> n{u.prompt_tokens, u.completion_tokens, u.reasoning_tokens,
                                  u.prompt_cache_hit_tokens};
    for (std::size_t i = 0; i < n.size(); ++i) {
      if (n[i] > 0) {
        m->tokens[i]->inc(double(n[i]));
      }
    }
  }
}

net::awaitable<void> serve_metrics(const http::Request& req, http::Responder& res) {
  http::Response r{bhttp::status::ok, 11};
  if (req.method() != bhttp::verb::get) {
    r.result(bhttp::status::method_not_allowed);
    r.set(bhttp::field::allow, "GET");
    r.set(bhttp::field::content_type, "application/json");
    r.body() = http::openai_error_body(
        fmt::format("method {} is not allowed on /metrics; use GET", req.method_string()),
        "invalid_request_error", "method_not_allowed");
  } else {
    r.set(bhttp::field::content_type, telemetry::content_type());
    r.body() = telemetry::metrics().expose();
  }
  co_await res.send(std::move(r));
}

}  // namespace sluice::gateway
