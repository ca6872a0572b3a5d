// The routing loop of one request: pick a deployment (balancer over healthy hosts), run the attempt, feed
// health and budgets, and retry elsewhere — with full-jitter backoff, Retry-After, the retry budget and the
// request deadline as brakes — then fall back to the next model group.
#include <spdlog/spdlog.h>

#include "gateway/gateway.h"
#include "gateway/key_lease.h"
#include "gateway/retry_rules.h"
#include "openai/request_view.h"
#include "routing/backoff.h"
#include "sluice/version.h"

namespace sluice::gateway {

namespace {
// Client headers that must not travel upstream: hop-by-hop ones, ones the gateway sets itself, client
// credentials, and Accept-Encoding (the relay reads SSE and JSON, so the upstream must answer uncompressed).
bool forwardable(const bhttp::fields::value_type& f) {
  switch (f.name()) {
    case bhttp::field::host:
    case bhttp::field::authorization:
    case bhttp::field::proxy_authorization:
    case bhttp::field::connection:
    case bhttp::field::keep_alive:
    case bhttp::field::proxy_connection:
    case bhttp::field::te:
    case bhttp::field::trailer:
    case bhttp::field::transfer_encoding:
    case bhttp::field::upgrade:
    case bhttp::field::content_length:
    case bhttp::field::content_type:
    case bhttp::field::accept:
    case bhttp::field::accept_encoding:
    case bhttp::field::expect:
    case bhttp::field::cookie:
    case bhttp::field::user_agent:
      return false;
    default: {
      auto n = f.name_string();
      return !beast::iequals(n, "x-api-key") && !beast::iequals(n, "api-key") &&
             !beast::iequals(n, "x-request-id") && !beast::iequals(n, "x-request-timeout");
    }
  }
}

const std::string kUserAgent = std::string("sluice/") + kVersion;

std::string host_header(const config::Upstream& up) {
  bool default_port = (up.scheme == "https" && up.port == 443) || (up.scheme == "http" && up.port == 80);
  return default_port ? up.host : up.host + ":" + std::to_string(up.port);
}

// Serialized by hand: one string, one write, none of the per-field allocations of a beast message.
std::string build_request_head(const PlanInput& in, const config::Upstream& up, std::size_t body_size,
                               std::string_view request_id, std::string_view api_key) {
  std::string h;
  h.reserve(512);
  auto field = [&h](std::string_view name, std::string_view value) {
    h += name;
    h += ": ";
    h += value;
    h += "\r\n";
  };
  h += "POST ";
  h += up.base_path;
  h += in.path;
  h += " HTTP/1.1\r\n";
  for (const auto& f : in.client) {
    if (forwardable(f)) {
      field(f.name_string(), f.value());
    }
  }
  field("Host", host_header(up));
  field("User-Agent", kUserAgent);
  field("Content-Type", "application/json");
  field("Accept", in.stream ? "text/event-stream" : "application/json");
  field("X-Request-Id", request_id);
  if (!api_key.empty()) {
    h += "Authorization: Bearer ";
    h += api_key;
    h += "\r\n";
  }
  field("Content-Length", std::to_string(body_size));
  h += "\r\n";
  return h;
}

// The group, then its fallbacks depth-first; each group once.
std::vector<const routing::Group*> chain_of(const routing::Group& g) {
  std::vector<const routing::Group*> chain{&g};
  for (std::size_t i = 0; i < chain.size(); ++i) {
    for (const auto* fb : chain[i]->fallbacks) {
      if (std::find(chain.begin(), chain.end(), fb) == chain.end()) {
        chain.push_back(fb);
      }
    }
  }
  return chain;
}

// Hosts whose every API key is out of headroom count as tried while another host can take the request:
// route around a provider's limit before it answers 429.
std::vector<bool> avoid_paced(const routing::Group& g, const std::vector<bool>& tried, Clock::time_point now) {
  std::vector<bool> avoid = tried;
  bool any_open = false;
  for (std::size_t i = 0; i < g.hosts.size(); ++i) {
    if (!avoid[i] && !g.hosts[i]->keys().has_headroom(now)) {
      avoid[i] = true;
    }
    any_open = any_open || !avoid[i];
  }
  return any_open ? avoid : tried;
}

// Keeps a group's active-request count right however the coroutine leaves.
struct ActiveGuard {
  routing::RetryBudget& b;
  explicit ActiveGuard(routing::RetryBudget& budget) : b(budget) { b.request_started(); }
  ~ActiveGuard() { b.request_finished(); }
};
struct InFlight {
  routing::HostState& h;
  explicit InFlight(routing::HostState& host) : h(host) { h.attempt_started(); }
  ~InFlight() { h.attempt_finished(); }
};
struct RetryGuard {
  routing::RetryBudget* b = nullptr;
  ~RetryGuard() {
    if (b) {
      b->retry_finished();
    }
  }
};
}  // namespace

net::awaitable<void> ProxyHandler::run_plan(const PlanInput& in, http::Responder& res,
                                            UpstreamConnection** current, PlanResult& result) {
  const auto chain = chain_of(in.group);
  for (const routing::Group* g : chain) {
    const config::Model& model = *g->model;
    ActiveGuard active{*g->budget};
    std::vector<bool> tried(g->hosts.size());
    for (unsigned t = 0; t < model.retry.max_attempts; ++t) {
      auto now = Clock::now();
      std::size_t idx = state_.router->pick(*g, avoid_paced(*g, tried, now), rng_, now);
      RetryGuard retry_slot;
      if (result.attempts > 0) {
        // A retry (or the first try of a fallback group) must fit the budget and the deadline.
        if (!g->budget->try_acquire_retry()) {
          result.out.detail += "; retry budget exhausted";
          co_return;
        }
        retry_slot.b = g->budget.get();
        routing::Ms delay{0};
        auto after = routing::parse_retry_after(result.out.retry_after);
        if (after && tried[idx] && !g->hosts[idx]->keys().has_headroom(now)) {
          delay = routing::retry_after_jitter(*after, rng_);  // same host asked us to wait
        } else if (t > 0) {
          delay = routing::full_jitter({model.retry.backoff_base, model.retry.backoff_cap}, t - 1, rng_);
        }
        auto remaining = std::chrono::duration_cast<routing::Ms>(in.deadline - now);
        if (!routing::fit_before_deadline(delay, remaining)) {
          result.out.detail += "; no time left for another attempt";
          co_return;
        }
        if (delay.count() > 0) {
          net::steady_timer timer{co_await net::this_coro::executor, delay};
          result.backoff = &timer;
          auto slept_from = Clock::now();
          co_await timer.async_wait(use_tuple);
          result.not_overhead += Clock::now() - slept_from;
          result.backoff = nullptr;
          if (res.broken()) {
            co_return;
          }
        }
      }
      if (result.attempts > 0 && result.answered_by) {
        state_.metrics->on_next_attempt(*result.answered_by, model, result.out.failure);
      }
      tried[idx] = true;
      const config::Deployment& dep = model.deployments[idx];
      routing::HostState& host = *g->hosts[idx];
      const config::Upstream& up = host.upstream();
      std::string rewritten;  // only when this deployment knows the model by another id
      std::string_view body = in.body;
      if (dep.upstream_model != in.model) {
        rewritten = in.body;
        body = rewritten;
      }
      if (!rewritten.empty() && !openai::rewrite_model(rewritten, dep.upstream_model)) {
        result.out = AttemptOutcome{};
        result.out.failure = UpstreamFailure::kClientError;
        result.out.detail = "cannot rewrite model";
        co_return;
      }
      body = rewritten.empty() ? std::string_view(in.body) : std::string_view(rewritten);
      KeyLease key{host};
      auto key_from = Clock::now();
      const bool have_key = co_await key.acquire(in.deadline, result.backoff);
      result.not_overhead += Clock::now() - key_from;
      if (!have_key) {
        co_return;  // the client left while we waited for a key
      }
      const std::string head = build_request_head(in, up, body.size(), res.request_id(), key.secret());
      AttemptSpec spec{*pools_.find(up.name)->second, up, head, body, in.stream,
                       state_.config->limits.max_response_bytes, in.deadline, in.tap, in.strip_usage_chunk};
      res.set_header("x-sluice-model", model.name);  // which group answered (fallbacks change it)
      res.set_header("x-sluice-upstream", up.name);
      res.set_header("x-sluice-attempts", std::to_string(result.attempts + 1));
      ++result.attempts;
      result.answered_by = &model;
      result.upstream = &up;
      {
        InFlight counted{host};
        auto attempt_from = Clock::now();
        co_await run_attempt(spec, res, current, result.out);
        result.not_overhead += Clock::now() - attempt_from;
      }
      key.finish(result.out);
      // A 402/401 speaks about the key, not the request: another key of the same upstream may answer it.
      const bool key_refused = (result.out.upstream_status == 402 || result.out.upstream_status == 401) &&
                               host.keys().has_headroom(Clock::now());
      if (key_refused) {
        tried[idx] = false;
      }
      if (res.broken()) {
        co_return;  // the client left; that says nothing about the host
      }
      state_.metrics->on_attempt(up, result.out.failure);
      const bool ok = result.out.failure == UpstreamFailure::kNone;
      std::optional<double> ttft;
      if (result.out.ttft) {
        ttft = double(result.out.ttft->count());
      } else if (result.out.failure == UpstreamFailure::kFirstTokenTimeout) {
        ttft = double(up.timeouts.first_token.count());  // a timeout is a (lower bound) latency sample
      }
      if (host.record(!host_failure(result.out.failure), ttft, Clock::now())) {
        state_.metrics->on_ejection(up);
        spdlog::warn("upstream {} ejected after repeated failures (last: {})", up.name,
                     to_string(result.out.failure));
      }
      state_.admission->on_attempt(model.name, result.out.ttft ? std::optional<double>(result.out.ttft->count()) : std::nullopt,
                                   result.out.upstream_status == 429 || result.out.upstream_status == 503 ||
                                       result.out.failure == UpstreamFailure::kFirstTokenTimeout);
      if (ok) {
        g->budget->record_success();
      } else if (retriable(result.out.failure)) {
        g->budget->record_failure();
      }
      if (ok || result.out.committed || (!retriable(result.out.failure) && !key_refused) || res.broken()) {
        co_return;
      }
    }
  }
  co_return;
}

}  // namespace sluice::gateway
