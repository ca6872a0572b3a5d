#pragma once
// The gateway's shared, immutable-after-start state and the per-worker request handler.
#include <atomic>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <unordered_map>

#include "admission/admission.h"
#include "config/config.h"
#include "gateway/attempt.h"
#include "gateway/gateway_metrics.h"
#include "gateway/cache_path.h"
#include "routing/router.h"
#include "gateway/upstream_conn.h"
#include "http/server.h"
#include "telemetry/access_log.h"

namespace sluice::gateway {

// Built once at startup from a Config; shared read-only by all workers.
struct GatewayState {
  std::shared_ptr<const config::Config> config;
  std::map<std::string, std::unique_ptr<ssl::context>> tls;  // by upstream name, https upstreams only
  std::unordered_map<std::string, std::string> key_names;    // sha256(secret) → key name
  std::string models_json;                                   // GET /v1/models body
  std::unique_ptr<telemetry::AccessLog> access_log;
  std::unique_ptr<routing::Router> router;
  std::unique_ptr<GatewayMetrics> metrics;  // after router: its scrape-time collector reads the router
  std::unique_ptr<CacheServices> cache;  // response cache, coalescing, usage ledger (cache_path.h)
  // Key limits and group gates. On reload: admission::Admission::carry_over(*old.admission, *fresh.admission).
  std::unique_ptr<admission::Admission> admission;
  SecretScrubber secrets;  // provider keys, redacted from relayed error answers
  std::atomic<bool> draining{false};
};

// Null + error when something outside the config is wrong (unreadable CA file, access log path).
// `previous`: the running generation on a reload (long-lived parts such as the cache are taken over from it).
std::unique_ptr<GatewayState> make_gateway_state(std::shared_ptr<const config::Config> cfg, std::string& error,
                                                 const GatewayState* previous = nullptr);

enum class Endpoint { kChatCompletions, kCompletions, kEmbeddings };

// What one client request needs to be tried against its model group and fallbacks.
struct PlanInput {
  const routing::Group& group;
  std::string_view path;        // "/chat/completions", appended to each upstream's base path
  const http::Request& client;  // its headers are forwarded (minus hop-by-hop and credentials)
  const std::string& body;      // original body; each attempt rewrites "model" for its deployment
  std::string_view model;       // as the client sent it
  bool stream = false;
  Clock::time_point deadline;
  RelayTap* tap = nullptr;          // coalescing: joiners read what this request relays
  bool strip_usage_chunk = false;   // include_usage was added for the ledger, not asked by the client
  // A clock reading the first attempt may use as "now" when nothing waited since (unset: it reads the clock).
  Clock::time_point now{};
};

struct PlanResult {
  AttemptOutcome out;
  const config::Model* answered_by = nullptr;  // the group whose deployment produced `out`
  const config::Upstream* upstream = nullptr;
  unsigned attempts = 0;
  net::steady_timer* backoff = nullptr;  // set while sleeping between attempts, so a client leaving can wake it
  // Not the gateway's own work: time inside upstream attempts, and deliberate waits (backoff, key pacing).
  Clock::duration not_overhead{};
  UpstreamConnection* hedge = nullptr;   // a hedge attempt's connection, closed too when the client leaves
};

class ProxyHandler : public http::Handler {
 public:
  ProxyHandler(GatewayState& state, http::Worker& worker);
  net::awaitable<void> handle(http::Request& req, http::Responder& res) override;
  void on_drain() override;

 private:
  // Everything handle() does not pass straight to proxy().
  net::awaitable<void> answer_other(http::Request& req, http::Responder& res);
  net::awaitable<void> proxy(Endpoint ep, std::string_view path, std::string_view key_name, http::Request& req,
                             http::Responder& res);
  // The caller's virtual key name ("" when the gateway has no keys), or null with `why` set for the 401.
  // Not a coroutine: the common case needs no frame.
  const std::string* identify(const http::Request& req, std::string_view& why) const;
  static net::awaitable<void> unauthorized(http::Responder& res, std::string_view why);
  // The client's x-request-id when it is a safe token of at most 128 bytes, else a fresh 16-hex-digit id.
  void set_request_id(const http::Request& req, http::Responder& res);
  // Tries deployments of the group, then its fallbacks: retries with backoff within budget and deadline.
  // Fills `result` as it goes, so an abandoned request (client gone) still logs what was measured.
  net::awaitable<void> run_plan(const PlanInput& in, http::Responder& res, UpstreamConnection** current,
                                PlanResult& result);
  net::awaitable<void> answer(const PlanResult& r, http::Responder& res);

  GatewayState& state_;
  http::Worker& worker_;
  std::map<std::string, std::unique_ptr<UpstreamPool>, std::less<>> pools_;
  std::uint64_t id_prefix_;
  std::mt19937_64 rng_;
  std::uint64_t id_counter_ = 0;
};

}  // namespace sluice::gateway
