#pragma once
// The gateway's shared, immutable-after-start state and the per-worker request handler.
#include <atomic>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <unordered_map>

#include "admission/admission.h"
#include "cache/services.h"
#include "common/secret_scrubber.h"
#include "config/config.h"
#include "gateway/context.h"
#include "gateway/executor.h"
#include "gateway/gateway_metrics.h"
#include "http/server.h"
#include "ledger/accounting.h"
#include "routing/router.h"
#include "telemetry/access_log.h"
#include "upstream/transport.h"

namespace sluice::batch {
class BatchService;
}

namespace sluice::gateway {

namespace ssl = boost::asio::ssl;

// Built once at startup from a Config; shared read-only by all workers.
struct GatewayState {
  std::shared_ptr<const config::Config> config;
  std::map<std::string, std::unique_ptr<ssl::context>> tls;  // by upstream name, https upstreams only
  std::unordered_map<std::string, std::string> key_names;    // sha256(secret) → key name
  std::string models_json;                                   // GET /v1/models body
  std::unique_ptr<telemetry::AccessLog> access_log;
  std::unique_ptr<routing::Router> router;
  std::unique_ptr<GatewayMetrics> metrics;         // after router: its scrape-time collector reads the router
  // Where limits, budgets, pacing and cache entries are shared (state/backend.h); kept across reloads that
  // leave the `state` section unchanged.
  std::shared_ptr<state::Backend> state;
  std::unique_ptr<cache::CacheServices> cache;     // response cache and coalescing (kept across reloads)
  std::unique_ptr<ledger::Accounting> accounting;  // cost metrics and the usage ledger
  // Key limits and group gates. On reload: admission::Admission::carry_over(*old.admission,
  // *fresh.admission).
  std::unique_ptr<admission::Admission> admission;
  SecretScrubber secrets;  // provider keys, redacted from relayed error answers
  std::shared_ptr<batch::BatchService> batch;  // Batch API (process-wide; carried over by reloads); may be null
  // Share each upstream's provider-key pacing through the state backend; last, so they go first.
  std::vector<std::shared_ptr<void>> state_links;
};

// Null + error when something outside the config is wrong (unreadable CA file, access log path).
// `previous`: the running generation on a reload (long-lived parts such as the cache are taken over from it).
std::unique_ptr<GatewayState> make_gateway_state(std::shared_ptr<const config::Config> cfg,
                                                 std::string& error, const GatewayState* previous = nullptr);

class ProxyHandler : public http::Handler {
 public:
  ProxyHandler(GatewayState& state, http::Worker& worker);
  net::awaitable<void> handle(http::Request& req, http::Responder& res) override;
  void on_drain() override;

 private:
  // Everything handle() does not pass straight to proxy().
  net::awaitable<void> answer_other(http::Request& req, http::Responder& res);
  // The pipeline of one request to an OpenAI endpoint (pipeline.cc).
  net::awaitable<void> proxy(Endpoint ep, std::string_view path, std::string_view key_name,
                             http::Request& req, http::Responder& res);
  // The caller's virtual key name ("" when the gateway has no keys), or null with `why` set for the 401.
  // Not a coroutine: the common case needs no frame.
  const std::string* identify(const http::Request& req, std::string_view& why) const;
  static net::awaitable<void> unauthorized(http::Responder& res, std::string_view why);
  // /v1/files and /v1/batches (batch_routes.cc).
  net::awaitable<void> batch_route(http::Request& req, http::Responder& res);
  // The client's x-request-id when it is a safe token of at most 128 bytes, else a fresh 16-hex-digit id.
  void set_request_id(const http::Request& req, http::Responder& res);

  GatewayState& state_;
  http::Worker& worker_;
  std::uint64_t id_prefix_;
  std::mt19937_64 rng_;
  std::uint64_t id_counter_ = 0;
  upstream::SocketTransport transport_;
  ExecutorDeps deps_;
};

// GET /admin/usage?from=&to=&group_by= (usage_route.cc).
net::awaitable<void> handle_usage(GatewayState& state, const http::Request& req, http::Responder& res);

}  // namespace sluice::gateway
