#pragma once
// The sim's HTTP handler: one per worker thread. Routes DeepSeek's endpoints; completions go through
// the fault, capacity and generation model in completion.cc.
#include <simdjson.h>

#include <string>

#include "http/server.h"
#include "sim/key_limits.h"
#include "sim/request.h"
#include "sim/sim_state.h"

namespace sluice::sim {

struct HandlerOptions {
  std::string api_key;  // when set, requests need "Authorization: Bearer <key>" (401 otherwise)
  KeyLimiter* key_limits = nullptr;  // per-key windows, shared by all workers; null when not configured
};

class SimHandler : public http::Handler {
 public:
  SimHandler(SimState& state, HandlerOptions opts) : state_(state), opts_(std::move(opts)) {}
  net::awaitable<void> handle(http::Request& req, http::Responder& res) override;

 private:
  net::awaitable<void> completion(http::Request& req, http::Responder& res, Endpoint ep);
  net::awaitable<void> embeddings(http::Request& req, http::Responder& res);
  bool model_known(std::string_view model) const;
  // Per-key limits on a model endpoint: headers, 402 for broke keys, 429 past the window. True when answered.
  net::awaitable<bool> limit_key(http::Request& req, http::Responder& res);

  SimState& state_;
  HandlerOptions opts_;
  simdjson::ondemand::parser parser_;  // reused: no per-request parser allocation
};

// An OpenAI error shaped like DeepSeek's for `status`, counted in the stats; Retry-After when given.
net::awaitable<bool> send_status_error(SimState& st, http::Responder& res, unsigned status,
                                       std::string_view message = {}, std::optional<Ms> retry_after = {});
net::awaitable<bool> send_json(http::Responder& res, unsigned status, std::string body,
                               std::string_view content_type = "application/json");

}  // namespace sluice::sim
