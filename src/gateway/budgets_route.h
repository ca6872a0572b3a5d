#pragma once
// GET /admin/budgets: every key's spend against its daily and monthly caps (docs/admission.md#spend-budgets).
#include "gateway/gateway.h"

namespace sluice::gateway {

net::awaitable<void> handle_budgets(GatewayState& state, const http::Request& req, http::Responder& res);

}  // namespace sluice::gateway
