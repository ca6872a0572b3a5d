#include "gateway/gateway.h"

#include <spdlog/spdlog.h>

#include "batch/api.h"
#include "common/json.h"
#include "common/sha256.h"
#include "common/strings.h"
#include "http/openai_error.h"

namespace sluice::gateway {

namespace {
std::string build_models_json(const config::Config& cfg) {
  std::string out = R"({"object":"list","data":[)";
  bool first = true;
  for (const auto& [name, m] : cfg.models) {
    if (!first) {
      out += ',';
    }
    first = false;
    out += R"({"id":)";
    append_json_string(out, name);
    out += R"(,"object":"model","created":0,"owned_by":)";
    append_json_string(out, m.owned_by);
    out += '}';
  }
  out += "]}";
  return out;
}

// Strips a query string and DeepSeek's optional "/v1" prefix: "/v1/chat/completions?x" → "/chat/completions".
std::string_view route_path(std::string_view target) {
  target = strip_query(target);
  if (target.starts_with("/v1/")) {
    target.remove_prefix(3);
  }
  return target;
}

// Every provider key of every upstream: what an upstream could echo back (the client's own credentials and
// the admin key never travel upstream).
std::vector<std::string> provider_secrets(const config::Config& cfg) {
  std::vector<std::string> out;
  for (const auto& [name, up] : cfg.upstreams) {
    out.insert(out.end(), up.api_keys.begin(), up.api_keys.end());
    if (!up.api_key.empty()) {
      out.push_back(up.api_key);
    }
  }
  return out;
}

http::Response json_response(bhttp::status status, std::string body) {
  http::Response r{status, 11};
  r.set(bhttp::field::content_type, "application/json");
  r.body() = std::move(body);
  return r;
}
}  // namespace

std::unique_ptr<GatewayState> make_gateway_state(std::shared_ptr<const config::Config> cfg,
                                                 std::string& error, const GatewayState* previous) {
  auto st = std::make_unique<GatewayState>();
  for (const auto& [name, up] : cfg->upstreams) {
    if (up.scheme == "https") {
      auto ctx = upstream::make_tls_context(up, error);
      if (!ctx) {
        error = "upstreams." + name + ": " + error;
        return nullptr;
      }
      st->tls.emplace(name, std::move(ctx));
    }
  }
  for (const auto& k : cfg->keys) {
    st->key_names.emplace(k.secret_sha256, k.name);
  }
  st->secrets = SecretScrubber(provider_secrets(*cfg));
  st->models_json = build_models_json(*cfg);
  st->access_log = telemetry::AccessLog::open(cfg->access_log, error);
  if (!st->access_log) {
    return nullptr;
  }
  st->router = std::make_unique<routing::Router>(*cfg);
  st->metrics = std::make_unique<GatewayMetrics>(*st->router);
  // State hook: the shared-state backend outlives reloads that keep its settings.
  st->state = previous && previous->config->state == cfg->state ? previous->state
                                                                   : state::make_backend(cfg->state, error);
  if (!st->state) {
    return nullptr;
  }
  st->cache = cache::make_cache_services(*cfg, previous ? previous->cache.get() : nullptr,
                                         previous ? previous->config.get() : nullptr, st->state);
  if (st->accounting = ledger::Accounting::make(*cfg, error, previous ? previous->accounting.get() : nullptr,
                                                previous ? previous->config.get() : nullptr);
      !st->accounting) {
    return nullptr;
  }
  st->admission = std::make_unique<admission::Admission>(*cfg, st->state);
  for (const auto& [name, host] : st->router->hosts()) {  // provider-key pacing shared between replicas
    st->state_links.push_back(st->state->attach_pacing(name, host->keys()));
  }
  st->batch = previous ? previous->batch : nullptr;
  st->config = std::move(cfg);
  return st;
}

namespace {
std::uint64_t random_seed() {
  std::random_device rd;
  return (static_cast<std::uint64_t>(rd()) << 32) | rd();
}
}  // namespace

ProxyHandler::ProxyHandler(GatewayState& state, http::Worker& worker)
    : state_(state),
      worker_(worker),
      id_prefix_(random_seed() ^ worker.index()),
      rng_(random_seed()),
      transport_(worker.ioc().get_executor(), *state.config, state.tls),
      deps_{*state.router, *state.config, *state.metrics, *state.admission, state.secrets, transport_, rng_} {
}

void ProxyHandler::on_drain() {
  transport_.on_drain();
}

void ProxyHandler::set_request_id(const http::Request& req, http::Responder& res) {
  auto given = req["x-request-id"];
  if (!given.empty() && given.size() <= http::Responder::kMaxRequestId &&
      given.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") ==
          std::string_view::npos) {
    res.set_request_id(given);
    return;
  }
  std::uint64_t v = id_prefix_ + (++id_counter_ * 0x9E3779B97F4A7C15ull);
  char id[16];  // 16 hex digits, by hand: this runs for every request
  for (int i = 15; i >= 0; --i, v >>= 4) {
    id[i] = "0123456789abcdef"[v & 0xf];
  }
  res.set_request_id({id, sizeof id});
}

const std::string* ProxyHandler::identify(const http::Request& req, std::string_view& why) const {
  static const std::string kAnonymous;
  if (state_.key_names.empty()) {
    return &kAnonymous;
  }
  auto secret = bearer_token(req[bhttp::field::authorization]);
  if (secret && !secret->empty()) {
    if (auto it = state_.key_names.find(sha256_hex(*secret)); it != state_.key_names.end()) {
      return &it->second;
    }
    why = "Incorrect API key provided.";
    return nullptr;
  }
  why = "You didn't provide an API key. Send it as 'Authorization: Bearer YOUR_KEY'.";
  return nullptr;
}

net::awaitable<void> ProxyHandler::unauthorized(http::Responder& res, std::string_view why) {
  co_await res.send_error(bhttp::status::unauthorized, why, "invalid_request_error", "invalid_api_key");
}

namespace {
std::optional<Endpoint> endpoint_of(std::string_view path) {
  if (path == "/chat/completions") {
    return Endpoint::kChatCompletions;
  }
  if (path == "/completions") {
    return Endpoint::kCompletions;
  }
  if (path == "/embeddings") {
    return Endpoint::kEmbeddings;
  }
  return std::nullopt;
}
}  // namespace

// Not a coroutine: an authorized POST to an OpenAI endpoint goes straight to proxy()'s frame, everything
// else (probes, metrics, models, errors) to answer_other().
net::awaitable<void> ProxyHandler::handle(http::Request& req, http::Responder& res) {
  set_request_id(req, res);
  if (req.method() == bhttp::verb::post) {
    const std::string_view path = route_path(req.target());
    std::string_view why;
    if (const auto ep = endpoint_of(path)) {
      if (const std::string* key = identify(req, why)) {
        return proxy(*ep, path, *key, req, res);
      }
    }
  }
  return answer_other(req, res);
}

net::awaitable<void> ProxyHandler::answer_other(http::Request& req, http::Responder& res) {
  std::string_view path = route_path(req.target());
  auto method = req.method();

  auto wrong_method = [&](std::string_view allow) -> net::awaitable<void> {
    http::Response r = json_response(
        bhttp::status::method_not_allowed,
        http::openai_error_body(
            fmt::format("method {} is not allowed on {}; use {}", req.method_string(), path, allow),
            "invalid_request_error", "method_not_allowed"));
    r.set(bhttp::field::allow, allow);
    co_await res.send(std::move(r));
  };

  if (path == "/healthz" || path == "/readyz") {
    if (method != bhttp::verb::get && method != bhttp::verb::head) {
      {
        co_await wrong_method("GET");
        co_return;
      }
    }
    // Not ready from the first SIGTERM on, including a shutdown delay that still serves (server.h).
    bool ready = path == "/healthz" || !worker_.shutting_down();
    {
      co_await res.send(json_response(ready ? bhttp::status::ok : bhttp::status::service_unavailable,
                                      ready ? R"({"status":"ok"})" : R"({"status":"draining"})"));
      co_return;
    }
  }
  if (path == "/metrics" && state_.config->metrics_open_on_main()) {  // else: with the admin routes
    co_await serve_metrics(req, res);
    co_return;
  }
  if (path == "/admin/usage") {
    co_await handle_usage(state_, req, res);  // cache engineer's route: usage_route.cc
    co_return;
  }
  if (batch::is_batch_path(path)) {
    co_await batch_route(req, res);  // batch_routes.cc
    co_return;
  }
  if (path == "/models") {
    if (method != bhttp::verb::get) {
      {
        co_await wrong_method("GET");
        co_return;
      }
    }
    std::string_view why;
    if (identify(req, why)) {
      co_await res.send(json_response(bhttp::status::ok, state_.models_json));
    } else {
      co_await unauthorized(res, why);
    }
    co_return;
  }
  const std::optional<Endpoint> ep = endpoint_of(path);
  if (!ep) {
    {
      co_await res.send(json_response(bhttp::status::not_found,
                                      http::openai_error_body(fmt::format("Unknown request URL: {} {}",
                                                                          req.method_string(), req.target()),
                                                              "invalid_request_error", "unknown_url")));
      co_return;
    }
  }
  if (method != bhttp::verb::post) {
    {
      co_await wrong_method("POST");
      co_return;
    }
  }
  std::string_view why;
  const std::string* key = identify(req, why);
  if (!key) {
    co_await unauthorized(res, why);
    co_return;
  }
  co_await proxy(*ep, path, *key, req, res);
}

}  // namespace sluice::gateway
