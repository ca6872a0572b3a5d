#include "gateway/host_monitor.h"

#include <spdlog/spdlog.h>

#include <boost/url.hpp>

#include "common/thread_name.h"
#include "routing/load_score.h"
#include "telemetry/metrics.h"

namespace sluice::gateway {

namespace {
constexpr std::size_t kMaxMetricsBody = 4 << 20;

struct Target {
  std::string host, port, path;
};

std::optional<Target> parse_http_url(std::string_view text) {
  auto u = boost::urls::parse_uri(text);
  if (!u || u->scheme_id() != boost::urls::scheme::http || u->encoded_host().empty()) {
    return std::nullopt;
  }
  Target t{u->host_address(), u->has_port() ? std::string(u->port()) : "80", std::string(u->encoded_path())};
  if (u->has_query()) {
    t.path += "?" + std::string(u->encoded_query());
  }
  if (t.path.empty()) {
    t.path = "/";
  }
  return t;
}

struct GetResult {
  unsigned status = 0;  // 0: no HTTP answer (connect error, timeout)
  std::string body;
};

// One GET on a fresh connection, all of it within `timeout`.
net::awaitable<GetResult> http_get(const Target& t, std::chrono::milliseconds timeout) {
  auto ex = co_await net::this_coro::executor;
  tcp::resolver resolver{ex};
  GetResult out;
  auto [rec, endpoints] = co_await resolver.async_resolve(t.host, t.port, use_tuple);
  if (rec) {
    co_return out;
  }
  beast::tcp_stream stream{ex};
  stream.expires_after(timeout);
  auto [cec, ep] = co_await stream.async_connect(endpoints, use_tuple);
  if (cec) {
    co_return out;
  }
  bhttp::request<bhttp::empty_body> req{bhttp::verb::get, t.path, 11};
  req.set(bhttp::field::host, t.host + ":" + t.port);
  req.set(bhttp::field::user_agent, "sluice-monitor");
  req.set(bhttp::field::connection, "close");
  auto [wec, wn] = co_await bhttp::async_write(stream, req, use_tuple);
  if (wec) {
    co_return out;
  }
  beast::flat_buffer buf;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(kMaxMetricsBody);
  auto [hec, hn] = co_await bhttp::async_read(stream, buf, parser, use_tuple);
  if (hec) {
    co_return out;
  }
  out.status = parser.get().result_int();
  out.body = std::move(parser.get().body());
  error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  co_return out;
}

net::awaitable<void> sleep_for(std::chrono::milliseconds d) {
  net::steady_timer t{co_await net::this_coro::executor, d};
  co_await t.async_wait(use_tuple);
}

net::awaitable<void> scrape_loop(routing::HostState& host, Target target) {
  const auto& lm = host.upstream().load_metrics;
  auto& r = host.load_report();
  double learned_capacity = 0;
  bool warned = false;
  for (;;) {
    auto started = Clock::now();
    auto got = co_await http_get(target, std::min<std::chrono::milliseconds>(lm.interval * 2, std::chrono::seconds(5)));
    std::optional<routing::ScrapedLoad> load;
    if (got.status == 200) {
      load = routing::parse_load_metrics(got.body);
    }
    if (load) {
      warned = false;
      // Capacity: configured, else what the host says, else the most sequences it was ever seen running.
      learned_capacity = std::max(learned_capacity, load->running);
      double cap = lm.capacity > 0 ? double(lm.capacity) : load->capacity > 0 ? load->capacity : learned_capacity;
      r.running.store(load->running, std::memory_order_relaxed);
      r.waiting.store(load->waiting, std::memory_order_relaxed);
      r.kv_usage.store(load->kv_usage, std::memory_order_relaxed);
      r.capacity.store(std::max(1.0, cap), std::memory_order_relaxed);
      r.in_flight_at_scrape.store(host.in_flight(), std::memory_order_relaxed);
      r.at_ms.store(routing::steady_ms(Clock::now()), std::memory_order_relaxed);
      routing::LoadInputs in{load->running, load->waiting, load->kv_usage, std::max(1.0, cap), 0,
                             host.load(1).ttft_ewma_ms};
      r.score.store(1.0 / routing::load_cost(in), std::memory_order_relaxed);
    } else if (!warned) {
      warned = true;  // once per outage of the metrics endpoint; the report goes stale by itself
      spdlog::warn("upstream {}: cannot read load metrics from {} (HTTP {})", host.upstream().name, lm.url,
                   got.status);
    }
    auto spent = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
    co_await sleep_for(std::max(std::chrono::milliseconds(10), lm.interval - spent));
  }
}

net::awaitable<void> health_loop(routing::HostState& host, Target target) {
  const auto& hc = host.upstream().health_check;
  std::uint32_t ok_streak = 0, fail_streak = 0;
  auto& failing = host.active_health().failing;
  for (;;) {
    auto got = co_await http_get(target, hc.timeout);
    const bool ok = got.status >= 200 && got.status < 300;
    ok_streak = ok ? ok_streak + 1 : 0;
    fail_streak = ok ? 0 : fail_streak + 1;
    if (!failing.load(std::memory_order_relaxed) && fail_streak >= hc.unhealthy_threshold) {
      failing.store(true, std::memory_order_relaxed);
      spdlog::warn("upstream {} failed {} health checks in a row: out of rotation", host.upstream().name,
                   fail_streak);
    } else if (failing.load(std::memory_order_relaxed) && ok_streak >= hc.healthy_threshold) {
      failing.store(false, std::memory_order_relaxed);
      host.mark_returned(Clock::now());  // slow start, when configured
      spdlog::info("upstream {} passed {} health checks: back in rotation", host.upstream().name, ok_streak);
    }
    co_await sleep_for(hc.interval);
  }
}
}  // namespace

HostMonitor::HostMonitor(GatewayState& state) : state_(state) {}

HostMonitor::~HostMonitor() { stop(); }

void HostMonitor::start() {
  bool any = false;
  for (const auto& [name, up] : state_.config->upstreams) {
    routing::HostState* host = state_.router->host(name);
    if (!host) {
      continue;
    }
    if (up.load_metrics.enabled) {
      if (auto t = parse_http_url(up.load_metrics.url)) {
        net::co_spawn(ioc_, scrape_loop(*host, *t), net::detached);
        any = true;
      }
    }
    if (up.health_check.enabled) {
      Target t{up.host, std::to_string(up.port), up.health_check.path};
      net::co_spawn(ioc_, health_loop(*host, t), net::detached);
      any = true;
    }
  }
  // The score the load_aware balancer sees for each scraped host (1 / cost; 0 until the first good scrape).
  std::vector<std::pair<telemetry::Gauge*, const routing::LoadReport*>> scores;
  auto& family = telemetry::metrics().gauge("sluice_upstream_load_score",
                                            "Load-aware score of the upstream (1 / cost; higher = more free).",
                                            {"upstream"});
  for (const auto& [name, up] : state_.config->upstreams) {
    if (routing::HostState* host = state_.router->host(name); host && up.load_metrics.enabled) {
      scores.emplace_back(&family.with({name}), &host->load_report());
    }
  }
  if (!scores.empty()) {
    collector_ = telemetry::metrics().add_collector([scores] {
      for (const auto& [gauge, report] : scores) {
        gauge->set(report->score.load(std::memory_order_relaxed));
      }
    });
  }
  if (any) {
    thread_ = std::thread([this] {
      name_this_thread("sluice-health");
      ioc_.run();
    });
  }
}

void HostMonitor::stop() {
  if (collector_ != 0) {
    telemetry::metrics().remove_collector(collector_);
    collector_ = 0;
  }
  ioc_.stop();
  if (thread_.joinable()) {
    thread_.join();
  }
}

}  // namespace sluice::gateway
