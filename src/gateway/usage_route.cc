// GET /admin/usage: ledger totals for a time range, grouped. The admin key (ledger.admin_key_env) sees every
// key's usage; a virtual key sees its own; without either configured the route is open like the gateway.
#include "common/sha256.h"
#include "common/strings.h"
#include "gateway/gateway.h"
#include "http/openai_error.h"

namespace sluice::gateway {

namespace {
std::string_view bearer(const http::Request& req) {
  return bearer_token(req[bhttp::field::authorization]).value_or(std::string_view{});
}

// Constant-time comparison: the admin key must not leak through response timing.
bool same_secret(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  }
  return diff == 0;
}
}  // namespace

net::awaitable<void> handle_usage(GatewayState& state, const http::Request& req, http::Responder& res) {
  if (req.method() != bhttp::verb::get) {
    co_await res.send_error(bhttp::status::method_not_allowed, "use GET on /admin/usage",
                            "invalid_request_error", "method_not_allowed");
    co_return;
  }
  const auto& cfg = *state.config;
  std::string_view secret = bearer(req);
  std::string only_key;
  bool admin = !cfg.ledger.admin_key.empty() && same_secret(secret, cfg.ledger.admin_key);
  if (!admin) {
    if (cfg.ledger.admin_key.empty() && state.key_names.empty()) {
      admin = true;  // an open gateway has open usage
    } else if (auto it = state.key_names.find(sha256_hex(secret));
               !secret.empty() && it != state.key_names.end()) {
      only_key = it->second;
    } else {
      co_await res.send_error(bhttp::status::unauthorized, "the admin key or a virtual key is required",
                              "invalid_request_error", "invalid_api_key");
      co_return;
    }
  }
  if (!state.accounting->ledger()) {
    co_await res.send_error(bhttp::status::not_found, "the usage ledger is disabled (ledger.enabled: false)",
                            "invalid_request_error", "ledger_disabled");
    co_return;
  }
  std::string error;
  auto q = ledger::parse_usage_query(req.target(), error);
  if (!q) {
    co_await res.send_error(bhttp::status::bad_request, error, "invalid_request_error", "invalid_value");
    co_return;
  }
  q->only_key = only_key;
  std::string body = co_await state.accounting->ledger()->async_query(std::move(*q), net::use_awaitable);
  http::Response r{bhttp::status::ok, 11};
  r.set(bhttp::field::content_type, "application/json");
  r.body() = std::move(body);
  co_await res.send(std::move(r));
}

}  // namespace sluice::gateway
