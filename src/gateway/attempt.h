#pragma once
// One try of a request against one upstream: connect (or reuse), send, read with first-token / idle / total
// deadlines, and relay the answer to the client. Keep-alive bytes (blank lines, ": keep-alive" comments)
// are recognised as "queued upstream": dropped, and never counted as progress.
#include <optional>
#include <string>

#include "common/secret_scrubber.h"
#include "gateway/attempt_gate.h"
#include "gateway/stitch.h"
#include "gateway/upstream_conn.h"
#include "http/responder.h"
#include "openai/usage.h"
#include "routing/rate_signals.h"

namespace sluice::gateway {

// Sees what the relay delivers (the cache's coalescing tee). Called on the attempt's thread.
class RelayTap {
 public:
  virtual ~RelayTap() = default;
  // One SSE event as relayed (canonical bytes, "data: [DONE]" included); usage_only: the include_usage chunk.
  virtual void on_event(std::string_view upstream, std::string_view event, bool usage_only) = 0;
  // A complete non-stream answer.
  virtual void on_body(std::string_view upstream, std::string_view json) = 0;
  // True while others read along: the relay keeps reading after its own client left.
  virtual bool wanted() const = 0;
};

struct AttemptSpec {
  UpstreamPool& pool;
  const config::Upstream& upstream;
  std::string_view request_head;  // serialized request line and headers, ending with an empty line
  std::string_view request_body;
  bool stream = false;
  std::size_t max_response_bytes = 64 * 1024 * 1024;
  Clock::time_point deadline = Clock::time_point::max();  // the request's overall deadline
  RelayTap* tap = nullptr;
  bool strip_usage_chunk = false;  // we asked for include_usage; the client did not
  AttemptGate* gate = nullptr;  // when set, content is claimed through it before anything reaches the client
  int gate_id = 0;
  // Mid-stream failover: when set, a stream that breaks after content was sent is left open for the caller
  // (outcome.broken_stream) instead of being closed with an error event; continuation attempts write into it.
  StreamStitch* stitch = nullptr;
  // When the caller just read the clock before starting the attempt: its start (TTFT, deadlines). Unset,
  // the attempt reads the clock itself.
  Clock::time_point started{};
  // The gateway's provider keys, redacted from error answers before they are relayed (docs/security.md).
  const SecretScrubber* scrubber = nullptr;
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
  bool broken_stream = false;  // (with a stitch) the client's stream is open and unfinished: continue or close it
};

// Ends a client stream that cannot be completed: an error event in the SDKs' shape, then [DONE].
net::awaitable<void> end_stream_with_error(http::Responder& res, UpstreamFailure failure);

// `current` is set to the connection in use (nullptr when none) so a client-disconnect watcher can close it.
// `out` is filled as the attempt goes, so a caller that abandons it (client gone) still knows what happened.
net::awaitable<void> run_attempt(const AttemptSpec& spec, http::Responder& res, UpstreamConnection** current,
                                 AttemptOutcome& out);

}  // namespace sluice::gateway
