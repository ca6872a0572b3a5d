#include "sim/handler.h"

#include <fmt/format.h>

#include "common/strings.h"
#include "sim/responses.h"

namespace sluice::sim {

namespace {
struct ErrorShape {
  std::string_view message;
  std::string_view type;
  std::string_view code;
};

ErrorShape error_shape(unsigned status) {
  switch (status) {
    case 400: return {"Invalid request format", "invalid_request_error", "invalid_request_error"};
    case 401:
      return {"Authentication Fails, Your api key is invalid", "authentication_error", "invalid_request_error"};
    case 402: return {"Insufficient Balance", "unknown_error", "invalid_request_error"};
    case 422: return {"Invalid Parameters", "invalid_request_error", "invalid_request_error"};
    case 429: return {"Rate Limit Reached", "rate_limit_error", "rate_limit_exceeded"};
    case 500: return {"Server Error, please retry your request after a brief wait", "server_error", "server_error"};
    case 503:
      return {"Server overloaded, please retry your request after a brief wait", "server_error",
              "server_overloaded"};
    default:
      return status < 500 ? ErrorShape{"Simulated client error", "invalid_request_error", "invalid_request_error"}
                          : ErrorShape{"Simulated server error", "server_error", "server_error"};
  }
}

std::string models_body(const Scenario& sc) {
  std::string out = R"({"object":"list","data":[)";
  bool first = true;
  for (const auto& m : sc.models) {
    if (m == "*") {
      continue;
    }
    out += first ? "" : ",";
    first = false;
    fmt::format_to(std::back_inserter(out), R"({{"id":"{}","object":"model","owned_by":"deepseek"}})", m);
  }
  out += "]}";
  return out;
}

constexpr std::string_view kBalanceBody =
    R"({"is_available":true,"balance_infos":[{"currency":"CNY","total_balance":"110.00",)"
    R"("granted_balance":"10.00","topped_up_balance":"100.00"}]})";
}  // namespace

net::awaitable<bool> send_json(http::Responder& res, unsigned status, std::string body,
                               std::string_view content_type) {
  http::Response r{static_cast<bhttp::status>(status), 11};
  r.set(bhttp::field::content_type, content_type);
  r.body() = std::move(body);
  co_return co_await res.send(std::move(r));
}

net::awaitable<bool> send_status_error(SimState& st, http::Responder& res, unsigned status,
                                       std::string_view message, std::optional<Ms> retry_after) {
  st.stats().inc_status(status);
  if (status == 400) {
    st.stats().inc(Counter::kBadRequests);
  }
  ErrorShape shape = error_shape(status);
  std::string ra;
  if (retry_after) {
    ra = std::to_string((retry_after->count() + 999) / 1000);  // whole seconds, rounded up
  }
  co_return co_await res.send_error(static_cast<bhttp::status>(status), message.empty() ? shape.message : message,
                                    shape.type, shape.code, ra);
}

bool SimHandler::model_known(std::string_view model) const {
  for (const auto& m : state_.scenario().models) {
    if (m == model || m == "*") {
      return true;
    }
  }
  return false;
}

net::awaitable<void> SimHandler::handle(http::Request& req, http::Responder& res) {
  std::string_view path = strip_query(req.target());
  if (path.starts_with("/v1/")) {
    path.remove_prefix(3);
  } else if (path.starts_with("/beta/")) {
    path.remove_prefix(5);
  }
  bool post = req.method() == bhttp::verb::post;
  bool get = req.method() == bhttp::verb::get;
  if (path == "/metrics" && get) {
    co_await send_json(res, 200, state_.stats().prometheus(state_.gauges()), "text/plain; version=0.0.4");
    co_return;
  }
  if (path == "/sim/stats" && get) {
    co_await send_json(res, 200, state_.stats().json(state_.gauges()));
    co_return;
  }
  if (path == "/health" && get) {
    co_await send_json(res, 200, R"({"status":"ok"})");
    co_return;
  }
  if (!opts_.api_key.empty()) {
    std::string_view auth = req[bhttp::field::authorization];
    if (auth != "Bearer " + opts_.api_key) {
      co_await send_status_error(state_, res, 401);
      co_return;
    }
  }
  bool model_call = post && (path == "/chat/completions" || path == "/completions" || path == "/embeddings");
  if (model_call && opts_.key_limits && co_await limit_key(req, res)) {
    co_return;
  }
  if (path == "/chat/completions" && post) {
    co_await completion(req, res, Endpoint::kChat);
  } else if (path == "/completions" && post) {
    co_await completion(req, res, Endpoint::kCompletions);
  } else if (path == "/embeddings" && post) {
    co_await embeddings(req, res);
  } else if (path == "/models" && get) {
    co_await send_json(res, 200, models_body(state_.scenario()));
  } else if (path == "/user/balance" && get) {
    co_await send_json(res, 200, std::string(kBalanceBody));
  } else if (path == "/chat/completions" || path == "/completions" || path == "/embeddings" ||
             path == "/models" || path == "/user/balance") {
    co_await send_status_error(state_, res, 405, fmt::format("method {} not allowed on {}",
                                                             std::string_view(req.method_string()), path));
  } else {
    co_await send_status_error(state_, res, 404, fmt::format("no such endpoint: {}", path));
  }
}

net::awaitable<bool> SimHandler::limit_key(http::Request& req, http::Responder& res) {
  std::string_view key = req[bhttp::field::authorization];
  if (key.starts_with("Bearer ")) {
    key.remove_prefix(7);
  }
  if (opts_.key_limits->broke(key)) {
    co_await send_status_error(state_, res, 402);
    co_return true;
  }
  auto d = opts_.key_limits->take(key, KeyLimiter::Clock::now());
  if (!d.limited) {
    co_return false;
  }
  res.set_header("x-ratelimit-limit-requests", std::to_string(d.limit));
  res.set_header("x-ratelimit-remaining-requests", std::to_string(d.remaining));
  res.set_header("x-ratelimit-reset-requests", format_reset(d.reset));
  if (d.allowed) {
    co_return false;
  }
  co_await send_status_error(state_, res, 429, "Rate limit reached for requests on this API key", d.reset);
  co_return true;
}

net::awaitable<void> SimHandler::embeddings(http::Request& req, http::Responder& res) {
  auto parsed = parse_api_request(parser_, req.body(), Endpoint::kEmbeddings);
  if (!parsed.error.empty()) {
    co_await send_status_error(state_, res, 400, parsed.error);
    co_return;
  }
  co_await send_json(res, 200, embeddings_body(parsed.req.model, parsed.req, state_.seed()));
}

}  // namespace sluice::sim
