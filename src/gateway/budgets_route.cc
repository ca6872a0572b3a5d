// GET /admin/budgets[?key=NAME]: spend, reserved cost of requests in flight and what is left of each cap, as every
// replica sees it (Redis backend) or as this process counts it (local). Admin key required (admin_api.cc).
#include "gateway/budgets_route.h"

#include <fmt/chrono.h>

#include <boost/json.hpp>
#include <chrono>

#include "common/strings.h"
#include "common/unix_time.h"

namespace sluice::gateway {

namespace {
namespace json = boost::json;

std::string iso_utc(std::int64_t unix_ms) {
  const auto t = std::chrono::sys_time<std::chrono::seconds>(std::chrono::seconds(unix_ms / 1000));
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}Z", t);
}

json::value period_json(admission::NanoUsd cap, admission::NanoUsd spent, admission::NanoUsd reserved,
                        std::int64_t resets_ms) {
  if (cap <= 0) {
    return nullptr;
  }
  json::object o;
  o["cap_usd"] = admission::to_usd(cap);
  o["spent_usd"] = admission::to_usd(spent);
  o["reserved_usd"] = admission::to_usd(reserved);
  o["remaining_usd"] = admission::to_usd(std::max<admission::NanoUsd>(0, cap - spent - reserved));
  o["exhausted"] = spent + reserved >= cap;
  o["resets_at"] = iso_utc(resets_ms);
  return o;
}

json::object budget_json(const std::string& key, const admission::BudgetCaps& caps, const state::SpendView& v) {
  json::object o;
  o["key"] = key;
  o["daily"] = period_json(caps.day, v.day_spent, v.reserved, v.periods.day_end_ms);
  o["monthly"] = period_json(caps.month, v.month_spent, v.reserved, v.periods.month_end_ms);
  o["shared"] = v.shared;
  return o;
}

std::string_view query_key(std::string_view target) {
  const auto q = target.find('?');
  if (q == std::string_view::npos) {
    return {};
  }
  std::string_view query = target.substr(q + 1);
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    if (pair.starts_with("key=")) {
      return pair.substr(4);
    }
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
  }
  return {};
}

std::string budgets_body(json::array budgets, std::int64_t now_ms, bool shared) {
  json::object o;
  o["time"] = iso_utc(now_ms);
  o["backend"] = shared ? "redis" : "local";
  o["budgets"] = std::move(budgets);
  return json::serialize(o);
}
}  // namespace

net::awaitable<void> handle_budgets(GatewayState& st, const http::Request& req, http::Responder& res) {
  if (req.method() != bhttp::verb::get) {
    co_await res.send_error(bhttp::status::method_not_allowed, "use GET on /admin/budgets", "invalid_request_error",
                            "method_not_allowed");
    co_return;
  }
  const std::string_view only = query_key(req.target());
  const std::int64_t now_ms = unix_now_ms();
  json::array budgets;
  for (const auto& [name, entry] : st.admission->keys()) {
    if (!entry->spend || (!only.empty() && only != name)) {
      continue;
    }
    const state::SpendView v = co_await st.state->spend_view(*entry->spend, entry->budget, now_ms);
    budgets.emplace_back(budget_json(name, entry->budget, v));
  }
  if (!only.empty() && budgets.empty()) {
    co_await res.send_error(bhttp::status::not_found, fmt::format("no key named \"{}\" has a budget", only),
                            "invalid_request_error", "key_not_found");
    co_return;
  }
  http::Response r{bhttp::status::ok, 11};
  r.set(bhttp::field::content_type, "application/json");
  r.set(bhttp::field::cache_control, "no-store");
  r.body() = budgets_body(std::move(budgets), now_ms, st.state->shared());
  co_await res.send(std::move(r));
}

}  // namespace sluice::gateway
