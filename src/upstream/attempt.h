#pragma once
// One try of a request against one upstream: connect (or reuse), send, read with first-token / idle / total
// deadlines, and relay the answer to a ClientSink. Keep-alive bytes (blank lines, ": keep-alive" comments)
// are recognised as "queued upstream": dropped, and never counted as progress. An attempt never decides what
// happens after it fails: its outcome says what happened, the planner decides what comes next.
#include <optional>
#include <string>

#include "cache/relay_tap.h"
#include "common/cancel_scope.h"
#include "common/secret_scrubber.h"
#include "openai/usage.h"
#include "routing/rate_signals.h"
#include "upstream/attempt_gate.h"
#include "upstream/client_sink.h"
#include "upstream/connection.h"
#include "upstream/stitch.h"

namespace sluice::upstream {

struct AttemptSpec {
  const config::Upstream& upstream;
  std::string_view request_head;  // serialized request line and headers, ending with an empty line
  std::string_view request_body;
  bool stream = false;
  std::size_t max_response_bytes = 64 * 1024 * 1024;
  Clock::time_point deadline = Clock::time_point::max();  // the request's overall deadline
  cache::RelayTap* tap = nullptr;
  bool strip_usage_chunk = false;  // we asked for include_usage; the client did not
  AttemptGate* gate = nullptr;  // when set, content is claimed through it before anything reaches the client
  int gate_id = 0;
  // Mid-stream failover: events pass through it (it keeps the text sent so far); a continuation's events
  // are rewritten to continue the stream already on the wire.
  StreamStitch* stitch = nullptr;
  // When the caller just read the clock before starting the attempt: its start (TTFT, deadlines). Unset,
  // the attempt reads the clock itself.
  Clock::time_point started{};
  // The gateway's provider keys, redacted from error answers before they are relayed (docs/security.md).
  const SecretScrubber* scrubber = nullptr;
  // Cancelling its kUpstream hooks closes the attempt's connection at once (the client left, a hedge lost).
  CancelScope* cancel = nullptr;
  // A complete non-stream answer goes to the sink, unless it is held in the outcome (held_body) for the caller to
  // continue elsewhere: when the provider cut it short (non-stream failover), or always (a continuation piece).
  enum class Hold : std::uint8_t { kNever, kCutShort, kAlways } hold = Hold::kNever;
};

struct AttemptOutcome {
  UpstreamFailure failure = UpstreamFailure::kNone;
  unsigned upstream_status = 0;  // 0 when no HTTP response arrived
  bool committed = false;        // the client response has started; no other answer is possible now
  std::string detail;            // for logs: what exactly went wrong
  // An upstream HTTP error response (status >= 400) not yet sent: the caller decides to forward or retry.
  std::string error_body;
  std::string retry_after;
  std::optional<std::chrono::milliseconds> ttft;
  std::optional<openai::Usage> usage;
  std::size_t keepalives = 0;  // keep-alive lines/comments seen while the upstream queued us
  routing::RateSignals rate;   // what the answer said about the API key's limits
  bool lost_race = false;      // another attempt of the same request claimed the client first
  // The client's stream is open and unfinished: continue it, or end it with an error.
  bool broken_stream = false;
  bool cut_short = false;  // a complete answer with finish_reason insufficient_system_resource
  std::string held_body;   // a non-stream answer not sent to the client (AttemptSpec::hold)
};

// `out` is filled as the attempt goes, so a caller that abandons it (client gone) still knows what happened.
net::awaitable<void> run_attempt(const AttemptSpec& spec, UpstreamPool& pool, ClientSink& sink,
                                 AttemptOutcome& out);

}  // namespace sluice::upstream
