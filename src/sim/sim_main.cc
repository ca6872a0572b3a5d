#include "sim/sim_main.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <csignal>
#include <cstdio>

#include "common/units.h"
#include "http/server.h"
#include "sim/handler.h"
#include "sim/sim_state.h"

namespace sluice::sim {

namespace {
// "P50" or "P50/P99"; durations when `durations`, plain numbers otherwise.
std::optional<LogNormal> parse_pair(const std::string& s, bool durations) {
  auto one = [&](std::string_view v) -> std::optional<double> {
    if (durations) {
      auto d = parse_duration(v);
      return d ? std::optional<double>(static_cast<double>(d->count())) : std::nullopt;
    }
    try {
      std::size_t used = 0;
      double x = std::stod(std::string(v), &used);
      return used == v.size() && x >= 0 ? std::optional<double>(x) : std::nullopt;
    } catch (const std::exception&) {
      return std::nullopt;
    }
  };
  auto slash = s.find('/');
  auto p50 = one(std::string_view(s).substr(0, slash));
  auto p99 = slash == std::string::npos ? p50 : one(std::string_view(s).substr(slash + 1));
  if (!p50 || !p99 || *p99 < *p50) {
    return std::nullopt;
  }
  return LogNormal{*p50, *p99};
}
}  // namespace

// An `outage: refuse` phase closes the listening sockets, so new connections are refused by the kernel as
// when a host is down; requests on connections opened before the outage are reset by the handler.
net::awaitable<void> refuse_during_outages(SimState& state, http::Server& server, http::Worker& w) {
  net::steady_timer tick{w.ioc()};
  bool accepting = true;
  while (!w.draining()) {
    bool refuse = state.phase().outage == OutageMode::kRefuse;
    if (refuse == accepting) {
      accepting = !refuse;
      server.set_accepting(accepting);
    }
    tick.expires_after(std::chrono::milliseconds(20));
    co_await tick.async_wait(use_tuple);
  }
}

std::string apply_overrides(Scenario& sc, const SimOptions& o) {
  std::optional<Ms> max_wait;
  std::optional<Ms> ka;
  std::optional<LogNormal> ttft;
  std::optional<LogNormal> itl;
  std::optional<LogNormal> out;
  std::optional<OverloadPolicy> overload;
  if (o.max_wait && !(max_wait = parse_duration(*o.max_wait))) {
    return fmt::format("--max-wait: expected a duration like 10m, got '{}'", *o.max_wait);
  }
  if (o.keepalive_interval && (!(ka = parse_duration(*o.keepalive_interval)) || ka->count() <= 0)) {
    return fmt::format("--keepalive-interval: expected a positive duration, got '{}'", *o.keepalive_interval);
  }
  if (o.ttft && !(ttft = parse_pair(*o.ttft, true))) {
    return fmt::format("--ttft: expected P50 or P50/P99 durations (e.g. 200ms/2s), got '{}'", *o.ttft);
  }
  if (o.itl && !(itl = parse_pair(*o.itl, true))) {
    return fmt::format("--itl: expected P50 or P50/P99 durations (e.g. 10ms/50ms), got '{}'", *o.itl);
  }
  if (o.output_tokens && !(out = parse_pair(*o.output_tokens, false))) {
    return fmt::format("--output-tokens: expected P50 or P50/P99 counts, got '{}'", *o.output_tokens);
  }
  if (o.overload) {
    const std::pair<std::string_view, OverloadPolicy> names[] = {
        {"queue", OverloadPolicy::kQueue},
        {"503", OverloadPolicy::kReject503},
        {"429", OverloadPolicy::kReject429},
        {"429-retry-after", OverloadPolicy::kReject429RetryAfter}};
    for (const auto& [n, p] : names) {
      if (*o.overload == n) {
        overload = p;
      }
    }
    if (!overload) {
      return fmt::format("--overload: expected queue, 503, 429 or 429-retry-after, got '{}'", *o.overload);
    }
  }
  for (auto& ph : sc.phases) {
    if (o.slots) {
      ph.slots = *o.slots;
    }
    if (max_wait) {
      ph.max_wait = *max_wait;
    }
    if (ka) {
      ph.keepalive_interval = *ka;
    }
    if (ttft) {
      ph.ttft.dist = *ttft;
    }
    if (itl) {
      ph.itl.dist = *itl;
    }
    if (out) {
      ph.output_tokens = *out;
    }
    if (overload) {
      ph.overload = *overload;
    }
    if (o.concurrency_limit) {
      ph.account_concurrency = *o.concurrency_limit;
    }
  }
  if (!o.models.empty()) {
    sc.models = o.models;
  }
  return {};
}

int run_sim(const SimOptions& o) {
  auto parsed = resolve_scenario(o.scenario);
  if (!parsed.scenario) {
    spdlog::error("sluice-sim: {}", parsed.error);
    return 2;
  }
  Scenario sc = std::move(*parsed.scenario);
  if (auto err = apply_overrides(sc, o); !err.empty()) {
    spdlog::error("sluice-sim: {}", err);
    return 2;
  }
  http::ServerOptions so;
  so.name = "sluice-sim";
  so.host = o.host;
  so.port = o.port;
  so.workers = o.workers;
  so.drain_timeout = std::chrono::milliseconds(1000);  // queued and stalled requests never finish alone
  so.keepalive_timeout = std::chrono::milliseconds(120'000);
  KeyLimitSpec key_spec;
  if (!o.key_limit.empty()) {
    if (auto err = parse_key_limits(o.key_limit, key_spec)) {
      spdlog::error("sluice-sim: --key-limit: {}", *err);
      return 2;
    }
  }
  auto window = parse_duration(o.key_window);
  if (!window || window->count() <= 0) {
    spdlog::error("sluice-sim: --key-window: expected a positive duration, got '{}'", o.key_window);
    return 2;
  }
  key_spec.window = *window;
  key_spec.broke.insert(o.broke_keys.begin(), o.broke_keys.end());
  KeyLimiter key_limits{key_spec, KeyLimiter::Clock::now()};
  SimState state{std::move(sc), o.seed};
  HandlerOptions ho{o.api_key, key_limits.enabled() ? &key_limits : nullptr};
  http::Server* server_ptr = nullptr;
  http::Server server{so, [&state, &ho, &server_ptr](http::Worker& w) {
                        if (w.index() == 0) {
                          net::co_spawn(w.ioc(), refuse_during_outages(state, *server_ptr, w), net::detached);
                        }
                        return std::make_unique<SimHandler>(state, ho);
                      }};
  server_ptr = &server;
  if (auto ec = server.listen()) {
    spdlog::error("sluice-sim: cannot listen on {}:{}: {}", o.host, o.port, ec.message());
    return 1;
  }
  const Phase& first = state.phase();
  spdlog::info("sluice-sim: scenario '{}' ({} phase(s)), seed {}, {} worker(s), first phase '{}' with {} slot(s)",
               state.scenario().name, state.scenario().phases.size(), o.seed, so.workers, first.name, first.slots);
  std::fprintf(stderr, "sluice-sim: listening on %s:%u\n", o.host.c_str(), static_cast<unsigned>(server.port()));
  std::fflush(stderr);
  server.run();
  return 0;
}

}  // namespace sluice::sim
