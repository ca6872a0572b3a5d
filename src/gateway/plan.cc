// The routing loop of one request: pick a deployment (balancer over healthy hosts), run the attempt, feed
// health and budgets, and retry elsewhere — with full-jitter backoff, Retry-After, the retry budget and the
// request deadline as brakes — then fall back to the next model group.
#include <spdlog/spdlog.h>

#include <utility>

#include "common/string_writer.h"
#include "common/forward_policy.h"
#include "gateway/gateway.h"
#include "gateway/hedge.h"
#include "gateway/hedge_stats.h"
#include "gateway/key_lease.h"
#include "gateway/retry_rules.h"
#include "openai/request_view.h"
#include "routing/affinity.h"
#include "routing/backoff.h"
#include "sluice/version.h"

namespace sluice::gateway {

namespace {
using namespace std::string_view_literals;
const std::string kUserAgent = std::string("sluice/") + kVersion;

bool default_port(const config::Upstream& up) {
  return (up.scheme == "https" && up.port == 443) || (up.scheme == "http" && up.port == 80);
}

// Serialized by hand: one string, one write, none of the per-field allocations of a beast message.
std::string build_request_head(const PlanInput& in, const config::Upstream& up, std::size_t body_size,
                               std::string_view request_id, std::string_view api_key) {
  std::string h;
  {
    StringWriter w(h);
    w << "POST "sv << up.base_path << in.path << " HTTP/1.1\r\n"sv;
    const std::string_view connection = in.client[bhttp::field::connection];
    for (const auto f : in.client) {
      if (forwardable_header(f.name, up.forward_headers) &&
          (connection.empty() || !named_in_connection(f.name, connection))) {
        w.field(f.name, f.value);
      }
    }
    w << "Host: "sv << up.host;
    if (!default_port(up)) {
      w << ':' << up.port;
    }
    w << "\r\n"sv;
    w.field("User-Agent", kUserAgent);
    w.field("Content-Type", "application/json");
    w.field("Accept", in.stream ? "text/event-stream" : "application/json");
    w.field("X-Request-Id", request_id);
    if (!api_key.empty()) {
      w << "Authorization: Bearer "sv << api_key << "\r\n"sv;
    }
    w << "Content-Length: "sv << body_size << "\r\n\r\n"sv;
  }
  return h;
}

// DeepSeek serves chat prefix completion under /beta: "<base without /v1>/beta/chat/completions".
void set_prefix_completion_path(std::string& head, std::string_view base_path, std::string_view path) {
  std::string_view base = base_path;
  if (base.ends_with("/v1")) {
    base.remove_suffix(3);
  }
  std::string target = "POST " + std::string(base);
  if (!base.ends_with("/beta")) {
    target += "/beta";
  }
  target += path;
  head.replace(0, head.find(" HTTP/1.1"), target);
}

// The group, then its fallbacks depth-first; each group once.
boost::container::small_vector<const routing::Group*, 4> chain_of(const routing::Group& g) {
  boost::container::small_vector<const routing::Group*, 4> chain{&g};
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
routing::HostMask avoid_paced(const routing::Group& g, const routing::HostMask& tried,
                              Clock::time_point now) {
  routing::HostMask avoid = tried;
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
  Clock::time_point fresh = in.now;
  for (const routing::Group* g : chain) {
    const config::Model& model = *g->model;
    ActiveGuard active{*g->budget};
    routing::HostMask tried(g->hosts.size());
    const std::uint64_t affinity = routing::prefix_key(in.body, model.affinity.prefix_bytes);
    for (unsigned t = 0; t < model.retry.max_attempts; ++t) {
      auto now = fresh != Clock::time_point{} ? std::exchange(fresh, {}) : Clock::now();
      std::size_t idx = state_.router->pick(*g, avoid_paced(*g, tried, now), rng_, now, affinity);
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
          now = Clock::now();
          result.not_overhead += now - slept_from;
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
      // The primary leg's provider key; may wait for a rate-limit window when the deadline allows.
      Leg legs[2];
      legs[0].key.emplace(*g->hosts[idx]);
      {
        const auto key_from = now;  // nothing waited since `now` was read (a backoff sleep re-read it)
        bool have_key = legs[0].key->try_take(key_from);
        if (!have_key) {  // waiting for a key's rate-limit window is not gateway overhead
          have_key = co_await legs[0].key->acquire(in.deadline, result.backoff);
          result.not_overhead += Clock::now() - key_from;
        }
        if (!have_key) {
          co_return;  // the client left while we waited for a key
        }
      }
      // Fills a leg for deployment i of this group: its body (model id rewritten when needed) and head.
      // A continuation (mid-stream failover) passes its own body and the stream's stitch.
      auto prepare = [&](std::size_t i, Leg& leg, const std::string* continuation = nullptr,
                         StreamStitch* stitch = nullptr) {
        const config::Deployment& dep = model.deployments[i];
        leg.idx = i;
        leg.host = g->hosts[i];
        const config::Upstream& up = leg.host->upstream();
        if (continuation) {
          leg.rewritten = *continuation;
        }
        if (dep.upstream_model != in.model) {
          if (leg.rewritten.empty()) {
            leg.rewritten = in.body;
          }
          if (!openai::rewrite_model(leg.rewritten, dep.upstream_model)) {
            return false;
          }
        }
        std::string_view body = leg.rewritten.empty() ? std::string_view(in.body) : std::string_view(leg.rewritten);
        if (!leg.key) {
          leg.key.emplace(*leg.host);
          leg.key->take_now(Clock::now());  // hedges and continuations do not wait for a key
        }
        leg.head = build_request_head(in, up, body.size(), res.request_id(), leg.key->secret());
        if (continuation && model.failover.mode == config::FailoverConfig::Mode::kPrefix) {
          set_prefix_completion_path(leg.head, up.base_path, in.path);
        }
        leg.spec.emplace(AttemptSpec{*pools_.find(up.name)->second, up, leg.head, body, in.stream,
                                     state_.config->limits.max_response_bytes, in.deadline, in.tap,
                                     in.strip_usage_chunk});
        leg.spec->scrubber = &state_.secrets;
        // A coalescing leader's tap reads one plain relay: no stitched continuation for it.
        if (in.stream && model.failover.enabled && in.path == "/chat/completions" && !in.tap) {
          leg.spec->stitch = stitch ? stitch : &leg.stitch;
        }
        ++result.attempts;
        res.set_header("x-sluice-model", model.name);  // which group answered (fallbacks change it)
        res.set_header("x-sluice-upstream", up.name);
        res.set_header("x-sluice-attempts", std::to_string(result.attempts));
        return true;
      };
      if (!prepare(idx, legs[0])) {
        result.out = AttemptOutcome{};
        result.out.failure = UpstreamFailure::kClientError;
        result.out.detail = "cannot rewrite model";
        co_return;
      }
      result.answered_by = &model;
      result.upstream = &legs[0].host->upstream();
      RetryGuard hedge_slot;
      auto start_hedge = [&](Leg& leg) {
        std::size_t h = state_.router->pick(*g, tried, rng_, Clock::now());
        if (tried[h] || !g->hosts[h]->available(Clock::now()) || !g->budget->try_acquire_retry()) {
          return false;  // only an untried healthy host, and only within the retry budget
        }
        hedge_slot.b = g->budget.get();
        tried[h] = true;
        return prepare(h, leg);
      };
      auto on_claim = [&](const Leg& leg) {
        result.upstream = &leg.host->upstream();
        res.set_header("x-sluice-upstream", leg.host->upstream().name);
      };
      const RaceHooks hooks{start_hedge, on_claim};
      std::optional<Clock::duration> hedge_delay;
      if (g->hedge && g->hosts.size() > 1 && !in.tap) {  // a coalescing leader's tap follows one attempt
        hedge_delay = g->hedge->delay();
      }
      UpstreamConnection** slots[2] = {current, &result.hedge};
      auto race_from = Clock::now();
      RaceResult race;
      if (hedge_delay) {
        race = co_await race_attempts(legs, *hedge_delay, res, slots, hooks);
      } else {
        SoleLeg sole{legs[0]};
        legs[0].spec->started = race_from;
        co_await run_attempt(*legs[0].spec, res, slots[0], legs[0].out);
      }
      const auto race_end = Clock::now();  // also the time the legs' outcomes are recorded at
      result.not_overhead += race_end - race_from;
      result.hedge = nullptr;
      result.out = legs[race.answer].out;
      result.upstream = &legs[race.answer].host->upstream();
      if (race.hedged) {
        hedge_stats().record(model.name, race.answer == 1);
      }
      if (res.broken()) {
        co_return;  // the client left; that says nothing about the host
      }
      auto record = [&](Leg& leg) {
        if (leg.key) {
          leg.key->finish(leg.out, race_end);  // the provider's rate-limit headers (or 429/402) for this key
        }
        if (!leg.started || leg.out.lost_race) {
          return;  // cancelled because the other leg won: says nothing about the host
        }
        const config::Upstream& up = leg.host->upstream();
        state_.metrics->on_attempt(up, leg.out.failure);
        state_.admission->on_attempt(
            model.name, leg.out.ttft ? std::optional<double>(leg.out.ttft->count()) : std::nullopt,
            leg.out.upstream_status == 429 || leg.out.upstream_status == 503 ||
                leg.out.failure == UpstreamFailure::kFirstTokenTimeout);
        const bool leg_ok = leg.out.failure == UpstreamFailure::kNone;
        std::optional<double> ttft;
        if (leg.out.ttft) {
          ttft = double(leg.out.ttft->count());
        } else if (leg.out.failure == UpstreamFailure::kFirstTokenTimeout) {
          ttft = double(up.timeouts.first_token.count());  // a timeout is a (lower bound) latency sample
        }
        if (ttft && g->hedge) {
          g->hedge->observe(*ttft);
        }
        if (leg.host->record(!host_failure(leg.out.failure), ttft, race_end)) {
          state_.metrics->on_ejection(up);
          spdlog::warn("upstream {} ejected after repeated failures (last: {})", up.name,
                       to_string(leg.out.failure));
        }
        if (leg_ok) {
          g->budget->record_success();
        } else if (retriable(leg.out.failure)) {
          g->budget->record_failure();
        }
      };
      record(legs[0]);
      record(legs[1]);
      if (result.out.broken_stream) {
        // Mid-stream failover: the client's stream is open and unfinished. Continue it on another host while
        // the budget, the deadline and max_resumes allow; otherwise end it honestly.
        StreamStitch stitch = std::move(legs[race.answer].stitch);
        bool open = true;
        while (open && !res.broken()) {
          std::optional<std::string> body;
          if (stitch.resumable() && stitch.resumes() < model.failover.max_resumes && Clock::now() < in.deadline) {
            body = stitch.continuation_body(in.body, model.failover.mode);
          }
          const std::size_t h = state_.router->pick(*g, tried, rng_, Clock::now());
          if (!body || !g->budget->try_acquire_retry()) {
            co_await end_stream_with_error(res, result.out.failure);
            co_return;
          }
          RetryGuard resume_slot{g->budget.get()};
          tried[h] = true;
          stitch.begin_continuation();
          Leg cont[2];
          if (!prepare(h, cont[0], &*body, &stitch)) {
            co_await end_stream_with_error(res, result.out.failure);
            co_return;
          }
          auto cont_from = Clock::now();
          {
            SoleLeg sole{cont[0]};
            co_await run_attempt(*cont[0].spec, res, current, cont[0].out);
          }
          result.not_overhead += Clock::now() - cont_from;
          record(cont[0]);
          result.out = cont[0].out;
          result.upstream = &cont[0].host->upstream();
          result.out.detail += "; resumed mid-stream (" + std::to_string(stitch.resumes()) + ")";
          open = result.out.failure != UpstreamFailure::kNone;
        }
        co_return;
      }
      // A 402/401 speaks about the key, not the request: another key of the same upstream may answer it.
      const bool key_refused = (result.out.upstream_status == 402 || result.out.upstream_status == 401) &&
                               legs[race.answer].host->keys().has_headroom(Clock::now());
      if (key_refused) {
        tried[legs[race.answer].idx] = false;
      }
      const bool ok = result.out.failure == UpstreamFailure::kNone;
      if (ok || result.out.committed || (!retriable(result.out.failure) && !key_refused) || res.broken()) {
        co_return;
      }
    }
  }
  co_return;
}

}  // namespace sluice::gateway
