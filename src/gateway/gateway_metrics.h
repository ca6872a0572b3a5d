#pragma once
// The gateway's Prometheus metrics (names in docs/metrics.md). Label sets are resolved once at startup — per
// model group, per upstream — so the request path only touches relaxed atomics; rare label sets (retry and
// fallback reasons, failure kinds) are resolved on first use and cached.
#include <array>
#include <atomic>
#include <deque>
#include <optional>
#include <unordered_map>

#include "config/config.h"
#include "routing/failure.h"
#include "http/responder.h"
#include "openai/usage.h"
#include "routing/router.h"
#include "telemetry/metrics.h"

namespace sluice::gateway {

using routing::UpstreamFailure;

// One label set of a counter family, looked up under the family lock on first use only.
class LazyCounter {
 public:
  LazyCounter(telemetry::Family<telemetry::Counter>& f, telemetry::LabelValues v) : f_(f), v_(std::move(v)) {}
  void inc(double v = 1.0);

 private:
  telemetry::Family<telemetry::Counter>& f_;
  const telemetry::LabelValues v_;
  std::atomic<telemetry::Counter*> c_{nullptr};
};

// One lazily resolved counter per UpstreamFailure, e.g. {upstream, result} or {model, reason}.
class CountersByFailure {
 public:
  // `fixed` are the label values before the failure name.
  CountersByFailure(telemetry::Family<telemetry::Counter>& f, const telemetry::LabelValues& fixed);
  void inc(UpstreamFailure f) { cells_[static_cast<std::size_t>(f)].inc(); }

 private:
  std::deque<LazyCounter> cells_;
};

class GatewayMetrics {
 public:
  GatewayMetrics(const routing::Router& router, telemetry::Registry& reg = telemetry::metrics());
  ~GatewayMetrics();  // removes its scrape-time collector (it reads the router)
  GatewayMetrics(const GatewayMetrics&) = delete;
  GatewayMetrics& operator=(const GatewayMetrics&) = delete;

  // After each finished attempt (the client still there), with its result.
  void on_attempt(const config::Upstream& up, UpstreamFailure result);
  void on_ejection(const config::Upstream& up);
  // Before a further attempt of one request: a retry within `to`'s group, or a fallback from another group.
  // `reason` is the previous attempt's failure.
  void on_next_attempt(const config::Model& from, const config::Model& to, UpstreamFailure reason);

  void request_started() { requests_in_flight_.add(1); }
  void request_ended() { requests_in_flight_.add(-1); }
  void stream_started() { streams_in_flight_.add(1); }
  void stream_ended() { streams_in_flight_.add(-1); }

  struct Finished {
    unsigned status = 0;                         // sent to the client (499: it left first)
    const config::Model* model = nullptr;        // the group that answered, else the one asked for
    const config::Upstream* upstream = nullptr;  // the last attempt's, if any
    std::optional<std::chrono::milliseconds> ttft;
    const openai::Usage* usage = nullptr;
    std::chrono::steady_clock::duration elapsed{};
    // Upstream attempts and deliberate waits; the rest of `elapsed` is the gateway's own overhead.
    std::optional<std::chrono::steady_clock::duration> not_overhead;
  };
  void on_request_finished(const Finished& f);

 private:
  struct PerUpstream {  // one (model, upstream) pair
    const config::Upstream* up = nullptr;
    std::array<telemetry::Counter*, 3> requests{};  // 2xx, 4xx, 5xx
    telemetry::Histogram* ttft = nullptr;
  };
  struct PerModel {
    std::vector<PerUpstream> upstreams;  // the group's deployments, then "none" (no attempt made)
    telemetry::Histogram* duration = nullptr;
    std::array<telemetry::Counter*, 4> tokens{};  // prompt, completion, reasoning, cache_hit
    std::optional<CountersByFailure> retries;
    std::unordered_map<const config::Model*, CountersByFailure> fallbacks;  // by target group
  };
  struct PerHost {
    std::optional<CountersByFailure> attempts;  // result label: "ok" for kNone, else the failure name
    telemetry::Counter* ejections = nullptr;
  };
  PerModel& add_model(std::string_view name, const routing::Group* g);
  void add_state_collector(const routing::Router& router);
  PerUpstream& per_upstream(PerModel& m, const config::Upstream* up);

  telemetry::Registry& reg_;
  telemetry::Family<telemetry::Counter>& requests_;
  telemetry::Family<telemetry::Histogram>& ttft_;
  telemetry::Family<telemetry::Counter>& fallbacks_;
  telemetry::Gauge& requests_in_flight_;
  telemetry::Gauge& streams_in_flight_;
  telemetry::Histogram& overhead_;
  std::unordered_map<const config::Model*, PerModel> models_;
  PerModel none_;  // requests that never reached a model group
  std::unordered_map<const config::Upstream*, PerHost> hosts_;
  std::uint64_t collector_ = 0;
};

// GET /metrics: the process-wide registry in Prometheus text format.
net::awaitable<void> serve_metrics(const http::Request& req, http::Responder& res);

// Lives on the stack of one proxied request: keeps the in-flight gauges right however the request ends.
class RequestMetrics {
 public:
  // `started` and finish's `now` come from the caller, which reads the clock for its access log anyway.
  RequestMetrics(GatewayMetrics& m, std::chrono::steady_clock::time_point started)
      : m_(m), started_(started) {
    m_.request_started();
  }
  ~RequestMetrics() {
    m_.request_ended();
    if (stream_) {
      m_.stream_ended();
    }
  }
  RequestMetrics(const RequestMetrics&) = delete;
  RequestMetrics& operator=(const RequestMetrics&) = delete;

  void set_stream(bool stream) {
    if (stream && !stream_) {
      m_.stream_started();
    }
    stream_ = stream;
  }
  GatewayMetrics::Finished& info() { return f_; }
  // What the routing loop measured (a PlanResult; a template so this header need not know gateway.h).
  template <class Plan>
  void record_plan(const Plan& p) {
    if (p.answered_by) {
      f_.model = p.answered_by;
    }
    f_.upstream = p.upstream;
    f_.ttft = p.out.ttft;
    f_.usage = p.out.usage ? &*p.out.usage : nullptr;
    if (p.attempts > 0) {
      f_.not_overhead = p.not_overhead;
    }
  }
  // Records the request once, however many exits call it.
  void finish(unsigned status, std::chrono::steady_clock::time_point now) {
    if (!done_) {
      done_ = true;
      f_.status = status;
      f_.elapsed = now - started_;
      m_.on_request_finished(f_);
    }
  }

 private:
  GatewayMetrics& m_;
  std::chrono::steady_clock::time_point started_;
  bool stream_ = false;
  bool done_ = false;
  GatewayMetrics::Finished f_;
};

}  // namespace sluice::gateway
