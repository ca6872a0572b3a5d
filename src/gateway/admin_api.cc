#include "gateway/admin_api.h"

#include <fmt/chrono.h>
#include <spdlog/spdlog.h>

#include <boost/json.hpp>
#include <cstdlib>
#include <ctime>
#include <mutex>

#include "common/sha256.h"
#include "common/strings.h"
#include "gateway/budgets_route.h"
#include "gateway/reload.h"
#include "http/openai_error.h"

#include "telemetry/metrics.h"
#include "common/unix_time.h"

namespace sluice::gateway {

namespace {
namespace json = boost::json;


http::Response make_response(bhttp::status status, std::string body, std::string_view content_type) {
  http::Response r{status, 11};
  r.set(bhttp::field::content_type, content_type);
  r.set(bhttp::field::cache_control, "no-store");
  r.body() = std::move(body);
  return r;
}
http::Response admin_json_response(bhttp::status status, const json::value& v) {
  return make_response(status, json::serialize(v), "application/json");
}

std::string utc_text(std::chrono::system_clock::time_point t) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}Z", tm);
}

json::object upstream_json(const std::string& name, const routing::HostState& h, const config::Config& cfg) {
  const auto now = routing::Clock::now();
  const routing::HostStatus s = h.status(now);
  const config::Upstream& up = h.upstream();
  json::object o;
  o["name"] = name;
  o["url"] = fmt::format("{}://{}:{}{}", up.scheme, up.host, up.port, up.base_path);
  o["state"] = s.state;
  o["drained"] = h.drained();
  o["in_flight"] = s.in_flight;
  o["ewma_ttft_ms"] = s.ewma_ttft_ms;
  o["consecutive_failures"] = s.consecutive_failures;
  o["times_ejected"] = s.times_ejected;
  o["ejected_for_ms"] = s.ejected_for_ms;
  if (s.ejected_for_ms > 0) {
    o["ejected_until"] = utc_text(std::chrono::system_clock::now() + std::chrono::milliseconds(s.ejected_for_ms));
  } else {
    o["ejected_until"] = nullptr;
  }
  json::array models;
  for (const auto& [model_name, m] : cfg.models) {
    for (const auto& d : m.deployments) {
      if (d.upstream == name) {
        models.emplace_back(model_name);
        break;
      }
    }
  }
  o["models"] = std::move(models);
  return o;
}

json::array upstreams_json(const GatewayState& st) {
  json::array arr;
  for (const auto& [name, h] : st.router->hosts()) {
    arr.emplace_back(upstream_json(name, *h, *st.config));
  }
  return arr;
}

json::object reloads_json(const Runtime& rt) {
  return {{"generation", rt.generation()}, {"success", rt.reloads_ok()}, {"failure", rt.reloads_failed()}};
}

std::string metrics_text() { return telemetry::metrics().expose(); }

struct DailySpend {
  std::mutex mu;
  std::int64_t day = -1;
  double base = 0;
  std::string since;
};
DailySpend& daily_spend() {
  static DailySpend d;
  return d;
}

bool authorized(const config::AdminConfig& admin, const http::Request& req) {
  if (admin.key_sha256.empty()) {
    return true;  // the separate listener without a key (loopback by recommendation)
  }
  std::string_view given = req["x-sluice-admin-key"];
  if (given.empty()) {
    given = bearer_token(req[bhttp::field::authorization]).value_or(std::string_view{});
  }
  return !given.empty() && sha256_hex(given) == admin.key_sha256;
}

net::awaitable<void> wrong_method(http::Responder& res, std::string_view allow) {
  http::Response r = make_response(
      bhttp::status::method_not_allowed,
      http::openai_error_body(fmt::format("use {} on this path", allow), "invalid_request_error",
                              "method_not_allowed"),
      "application/json");
  r.set(bhttp::field::allow, allow);
  co_await res.send(std::move(r));
}

// Plain functions build the JSON: GCC 12 miscompiles brace-initialised JSON objects inside coroutines.
json::array string_array(const std::vector<std::string>& v) {
  json::array a;
  for (const auto& s : v) {
    a.emplace_back(s);
  }
  return a;
}

http::Response reload_response(const ReloadOutcome& o) {
  if (o.ok) {
    return admin_json_response(bhttp::status::ok,
                               json::object{{"status", "reloaded"},
                                            {"generation", o.generation},
                                            {"restart_required", string_array(o.restart_required)},
                                            {"warnings", string_array(o.warnings)}});
  }
  json::object err{{"message", fmt::format("config reload failed; the running config (generation {}) stays "
                                           "active:\n{}",
                                           o.generation, fmt::join(o.errors, "\n"))},
                   {"type", "invalid_request_error"},
                   {"param", nullptr},
                   {"code", "config_invalid"},
                   {"errors", string_array(o.errors)}};
  return admin_json_response(bhttp::status::bad_request, json::object{{"error", std::move(err)}});
}

http::Response ui_state_response(const Runtime& rt, const GatewayState& st) {
  std::string metrics = metrics_text();
  json::object o{{"time_ms", unix_now_ms()},
                 {"reloads", reloads_json(rt)},
                 {"upstreams", upstreams_json(st)}};
  if (metrics.empty()) {
    o["metrics"] = nullptr;
  } else {
    o["metrics"] = metrics;
  }
  std::string since;
  if (auto spend = sample_daily_spend(&since)) {
    o["spend_today_usd"] = *spend;
    o["spend_since"] = since;
  } else {
    o["spend_today_usd"] = nullptr;
  }
  return admin_json_response(bhttp::status::ok, o);
}

http::Response upstreams_response(const Runtime& rt, const GatewayState& st) {
  return admin_json_response(bhttp::status::ok,
                             json::object{{"upstreams", upstreams_json(st)}, {"reloads", reloads_json(rt)}});
}

// /admin/upstreams/{name}/{drain|undrain|eject}
net::awaitable<void> serve_upstream_action(Runtime& rt, std::string_view rest, http::Responder& res) {
  auto slash = rest.find('/');
  std::string_view name = rest.substr(0, slash);
  std::string_view action = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
  auto st = rt.current();
  routing::HostState* h = st->router->host(name);
  if (!h) {
    co_await res.send_error(bhttp::status::not_found, fmt::format("no upstream named \"{}\"", name),
                            "invalid_request_error", "upstream_not_found");
    co_return;
  }
  if (action == "drain") {
    h->set_drained(true);
  } else if (action == "undrain") {
    h->set_drained(false);
  } else if (action == "eject") {
    h->force_eject(routing::Clock::now());
  } else {
    co_await res.send_error(bhttp::status::not_found,
                            fmt::format("unknown action \"{}\" (expected drain, undrain or eject)", action),
                            "invalid_request_error", "unknown_url");
    co_return;
  }
  spdlog::info("admin: upstream {} {}", name, action);
  co_await res.send(
      admin_json_response(bhttp::status::ok, upstream_json(std::string(name), *h, *st->config)));
}

// Serves one ops route (is_ops_path(path) must hold).
net::awaitable<void> serve_ops(Runtime& rt, const http::Request& req, http::Responder& res) {
  const std::string_view path = strip_query(req.target());
  const auto method = req.method();
  const bool get = method == bhttp::verb::get || method == bhttp::verb::head;
  if (path == "/ui" || path == "/ui/") {
    if (!get) {
      co_return co_await wrong_method(res, "GET");
    }
    // The page holds no data; /ui/state, which it polls, is what the admin key guards.
    http::Response r = make_response(bhttp::status::ok, std::string(dashboard_html()), "text/html; charset=utf-8");
    r.set("content-security-policy",
          "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; "
          "img-src data:");
    r.set("x-content-type-options", "nosniff");
    co_await res.send(std::move(r));
    co_return;
  }
  auto st = rt.current();
  if (!authorized(st->config->admin, req)) {
    co_await res.send_error(bhttp::status::unauthorized,
                            "admin key required: send it as 'Authorization: Bearer KEY' or 'x-sluice-admin-key'",
                            "invalid_request_error", "invalid_admin_key");
    co_return;
  }
  if (path == "/ui/state") {
    if (!get) {
      co_return co_await wrong_method(res, "GET");
    }
    co_await res.send(ui_state_response(rt, *st));
    co_return;
  }
  if (path == "/metrics") {
    co_await serve_metrics(req, res);
    co_return;
  }
  if (path == "/admin/budgets") {
    co_return co_await handle_budgets(*st, req, res);  // state hook: budgets_route.cc
  }
  if (path == "/admin/upstreams") {
    if (!get) {
      co_return co_await wrong_method(res, "GET");
    }
    co_await res.send(upstreams_response(rt, *st));
    co_return;
  }
  if (method != bhttp::verb::post) {
    co_return co_await wrong_method(res, "POST");
  }
  if (path == "/admin/reload") {
    co_await res.send(reload_response(rt.reload("admin API")));
    co_return;
  }
  co_await serve_upstream_action(rt, path.substr(std::string_view("/admin/upstreams/").size()), res);
}

class GenerationHandler : public http::Handler {
 public:
  GenerationHandler(Runtime& rt, std::shared_ptr<GatewayState> state, http::Worker& worker)
      : rt_(rt), state_(std::move(state)), proxy_(*state_, worker) {}

  // Not a coroutine: it passes on the callee's awaitable, so a proxied request has no frame here.
  net::awaitable<void> handle(http::Request& req, http::Responder& res) override {
    const auto& admin = state_->config->admin;
    // Admin routes live on the main listener only when they have no listener of their own and a key guards them.
    if (!admin.listen && !admin.key_sha256.empty() && is_ops_path(strip_query(req.target()))) {
      return serve_ops(rt_, req, res);
    }
    return proxy_.handle(req, res);
  }
  void on_drain() override { proxy_.on_drain(); }

 private:
  Runtime& rt_;
  std::shared_ptr<GatewayState> state_;  // this generation's state lives as long as its handlers
  ProxyHandler proxy_;
};

class MetricsHandler : public http::Handler {
 public:
  net::awaitable<void> handle(http::Request& req, http::Responder& res) override {
    if (strip_query(req.target()) == "/metrics") {
      co_return co_await serve_metrics(req, res);
    }
    co_await res.send_error(bhttp::status::not_found,
                            fmt::format("Unknown request URL: {} {} (this listener serves /metrics only)",
                                        req.method_string(), req.target()),
                            "invalid_request_error", "unknown_url");
  }
};

class AdminHandler : public http::Handler {
 public:
  explicit AdminHandler(Runtime& rt) : rt_(rt) {}
  net::awaitable<void> handle(http::Request& req, http::Responder& res) override {
    if (is_ops_path(strip_query(req.target()))) {
      co_return co_await serve_ops(rt_, req, res);
    }
    co_await res.send_error(bhttp::status::not_found,
                            fmt::format("Unknown request URL: {} {}", req.method_string(), req.target()),
                            "invalid_request_error", "unknown_url");
  }

 private:
  Runtime& rt_;
};
}  // namespace

std::optional<double> sample_daily_spend(std::string* since) {
  auto total = telemetry::metrics().counter_total("sluice_cost_usd_total");
  if (!total) {
    return std::nullopt;
  }
  const auto now = std::chrono::system_clock::now();
  const std::int64_t day = std::chrono::duration_cast<std::chrono::days>(now.time_since_epoch()).count();
  DailySpend& d = daily_spend();
  std::lock_guard lock(d.mu);
  if (d.day != day) {
    // First sample: the counter started with the process, so everything so far counts. Later: a new day.
    d.base = d.day < 0 ? 0 : *total;
    d.since = d.day < 0 ? utc_text(now) : utc_text(std::chrono::system_clock::time_point(std::chrono::days(day)));
    d.day = day;
  }
  if (since) {
    *since = d.since;
  }
  return *total - d.base;
}

bool is_ops_path(std::string_view path) {
  return path == "/ui" || path == "/ui/" || path == "/ui/state" || path == "/metrics" || path == "/admin/reload" ||
         path == "/admin/upstreams" || path.starts_with("/admin/upstreams/") || path == "/admin/budgets";
}

std::unique_ptr<http::Handler> make_generation_handler(Runtime& rt, std::shared_ptr<GatewayState> state,
                                                       http::Worker& worker) {
  return std::make_unique<GenerationHandler>(rt, std::move(state), worker);
}

std::unique_ptr<http::Handler> make_admin_handler(Runtime& rt) { return std::make_unique<AdminHandler>(rt); }

std::unique_ptr<http::Handler> make_metrics_handler() { return std::make_unique<MetricsHandler>(); }

}  // namespace sluice::gateway
