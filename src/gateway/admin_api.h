#pragma once
// Admin API (upstream state, drain/undrain/eject, reload) and the /ui dashboard routes, on the separate
// admin listener or — guarded by the admin key — on the main listener. See docs/operations.md.
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "gateway/gateway.h"
#include "http/server.h"

namespace sluice::gateway {

class Runtime;

// The main listener's handler for one config generation: owns that generation's ProxyHandler and keeps its
// GatewayState alive; answers the admin routes itself when an admin key is configured.
std::unique_ptr<http::Handler> make_generation_handler(Runtime& rt, std::shared_ptr<GatewayState> state,
                                                       http::Worker& worker);
// The admin listener's handler: admin routes only.
std::unique_ptr<http::Handler> make_admin_handler(Runtime& rt);
// The scrape-only listener's handler (metrics.listen): GET /metrics, nothing else.
std::unique_ptr<http::Handler> make_metrics_handler();

// Paths this file serves: /admin/upstreams[/...], /admin/reload, /admin/budgets (budgets_route.cc), /ui,
// /ui/state, /metrics. Other /admin/* paths (e.g. /admin/usage) belong to other handlers.
bool is_ops_path(std::string_view path);

// Spend since the start of the current UTC day from sluice_cost_usd_total (the counter counts from process
// start, so the day's baseline is taken at the first sample after midnight). Called every second by the
// runtime and by /ui/state; nullopt when no cost metric exists.
std::optional<double> sample_daily_spend(std::string* since = nullptr);

// The dashboard page (ui_page.cc).
std::string_view dashboard_html();

}  // namespace sluice::gateway
