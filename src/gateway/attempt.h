#pragma once
// One try of a request against one upstream: connect (or reuse), send, read with first-token / idle / total
// deadlines, and relay the answer to the client. Keep-alive bytes (blank lines, ": keep-alive" comments)
// are recognised as "queued upstream": dropped, and never counted as progress.
#include <optional>
#include <string>

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
};

// `current` is set to the connection in use (nullptr when none) so a client-disconnect watcher can close it.
// `out` is filled as the attempt goes, so a caller that abandons it (client gone) still knows what happened.
net::awaitable<void> run_attempt(const AttemptSpec& spec, http::Responder& res, UpstreamConnection** current,
                                 AttemptOutcome& out);

}  // namespace sluice::gateway
