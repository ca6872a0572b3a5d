#pragma once
// Runs what the routing planner decides (routing/planner.h) for one request: takes a provider key (waiting
// for a pacing window when the deadline allows), builds the request head, sleeps the backoff, runs the
// attempt — alone, or raced against a hedge — over a Transport, continues broken streams, and feeds every
// finished attempt back to host health, the retry budget, the hedge delay, key pacing, admission and metrics.
#include <chrono>
#include <optional>
#include <random>
#include <string>

#include "cache/relay_tap.h"
#include "common/cancel_scope.h"
#include "common/secret_scrubber.h"
#include "config/config.h"
#include "http/answer_headers.h"
#include "http/h1.h"
#include "routing/planner.h"
#include "routing/router.h"
#include "upstream/attempt.h"
#include "upstream/transport.h"

namespace sluice::admission {
class Admission;
}

namespace sluice::gateway {

class GatewayMetrics;
using upstream::AttemptOutcome;
using Clock = std::chrono::steady_clock;

// What one client request needs to be tried against its model group and fallbacks.
struct ExecuteInput {
  const routing::Group& group;
  std::string_view path;            // "/chat/completions", appended to each upstream's base path
  const http::h1::Request& client;  // its allow-listed headers are forwarded
  const std::string& body;          // original body; each attempt rewrites "model" for its deployment
  std::string_view model;           // as the client sent it
  std::string_view request_id;
  bool stream = false;
  Clock::time_point deadline;
  cache::RelayTap* tap = nullptr;  // coalescing: joiners read what this request relays
  bool strip_usage_chunk = false;  // include_usage was added for the ledger, not asked by the client
  std::uint64_t affinity_key = 0;  // prompt-prefix hash for prefix affinity (0: none)
  // A clock reading the first attempt may use as "now" when nothing waited since (unset: it reads the clock).
  Clock::time_point now{};
};

struct ExecuteResult {
  AttemptOutcome out;
  const config::Model* answered_by = nullptr;  // the group whose deployment produced `out`
  const config::Upstream* upstream = nullptr;
  unsigned attempts = 0;
  // Not the gateway's own work: time inside upstream attempts, and deliberate waits (backoff, key pacing).
  Clock::duration not_overhead{};

  std::string_view upstream_name() const {
    return upstream ? std::string_view(upstream->name) : std::string_view{};
  }
  // The id the answering upstream knows the model by (prices are per upstream model); empty without one.
  std::string upstream_model() const;
};

// What the executor touches beyond the request: the world it routes in.
struct ExecutorDeps {
  const routing::Router& router;
  const config::Config& config;
  GatewayMetrics& metrics;
  const admission::Admission& admission;
  const SecretScrubber& secrets;
  upstream::Transport& transport;
  std::mt19937_64& rng;
};

// Fills `result` as it goes, so an abandoned request (client gone) still logs what was measured. Names the
// answering group, upstream and attempt count in `headers`. Cancelling `cancel` stops waits and attempts.
net::awaitable<void> execute(const ExecutorDeps& deps, const ExecuteInput& in, upstream::ClientSink& sink,
                             CancelScope& cancel, http::AnswerHeaders& headers, ExecuteResult& result);

}  // namespace sluice::gateway
