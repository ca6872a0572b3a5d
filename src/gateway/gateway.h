#pragma once
// The gateway's shared, immutable-after-start state and the per-worker request handler.
#include <atomic>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <unordered_map>

#include "config/config.h"
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
  std::atomic<bool> draining{false};
};

// Null + error when something outside the config is wrong (unreadable CA file, access log path).
std::unique_ptr<GatewayState> make_gateway_state(std::shared_ptr<const config::Config> cfg, std::string& error);

enum class Endpoint { kChatCompletions, kCompletions, kEmbeddings };

class ProxyHandler : public http::Handler {
 public:
  ProxyHandler(GatewayState& state, http::Worker& worker);
  net::awaitable<void> handle(http::Request& req, http::Responder& res) override;
  void on_drain() override;

 private:
  net::awaitable<void> proxy(Endpoint ep, std::string_view path, std::string_view key_name, http::Request& req,
                             http::Responder& res);
  // Returns the key name, or nullopt after answering 401.
  net::awaitable<std::optional<std::string>> authenticate(const http::Request& req, http::Responder& res);
  std::string make_request_id(const http::Request& req);

  GatewayState& state_;
  http::Worker& worker_;
  std::map<std::string, std::unique_ptr<UpstreamPool>, std::less<>> pools_;
  std::uint64_t id_prefix_;
  std::uint64_t id_counter_ = 0;
};

}  // namespace sluice::gateway
