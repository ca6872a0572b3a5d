#pragma once
// How one benchmark request ended: success or one failure class, and the pure checks that decide it from
// the status, the body (non-stream) or the SSE events (stream).
#include <array>
#include <cstdint>
#include <string_view>

#include "http/asio.h"
#include "http/sse.h"

namespace sluice::bench {

enum class Outcome : std::uint8_t {
  kOk,
  kHttp429,
  kHttp503,
  kHttp5xx,    // other 5xx
  kHttp4xx,    // other 4xx (and anything else that is not 2xx)
  kConnect,    // could not connect (refused, unreachable, TLS handshake)
  kTimeout,    // --timeout passed (including time spent waiting for a connection in open loop)
  kReset,      // connection reset / closed before the response was complete
  kEmpty,      // 200 but no content: a body of blank lines (keep-alives only), a stream without any token
  kTruncated,  // a stream with tokens that ended without [DONE], or finish_reason
               // insufficient_system_resource
  kProtocol,   // malformed HTTP, malformed JSON body or chunk, an error object inside a 200
};
inline constexpr std::size_t kOutcomeCount = 11;

std::string_view outcome_name(Outcome o);

// Non-2xx status → its class; 2xx → kOk (the body still has to pass).
Outcome classify_status(unsigned status);

// A transport error → its class. `connecting` = the error came from connect/handshake.
Outcome classify_error(const error_code& ec, bool connecting);

struct BodyCheck {
  Outcome outcome = Outcome::kOk;
  std::int64_t completion_tokens = 0;
};

// A complete non-stream 200 body (leading keep-alive newlines allowed).
BodyCheck check_body(std::string_view body);

// True when a JSON object text has a string field `name` whose value is non-empty (tolerates spaces
// around ':'). Used to spot content tokens without parsing every chunk into a DOM.
bool has_nonempty_string(std::string_view json, std::string_view name);

// Follows an SSE response as its bytes arrive.
class StreamCheck : private http::SseSink {
 public:
  // Returns how many content chunks (tokens) these bytes completed.
  unsigned feed(std::string_view bytes);
  // The verdict once the body ended cleanly.
  Outcome finish() const;

  std::uint64_t content_chunks() const { return content_chunks_; }
  std::int64_t completion_tokens() const {
    return usage_tokens_ >= 0 ? usage_tokens_ : static_cast<std::int64_t>(content_chunks_);
  }
  // From the usage chunk: prompt tokens (-1 without one) and those the provider served from its cache.
  std::int64_t prompt_tokens() const { return usage_prompt_; }
  std::int64_t cached_prompt_tokens() const { return usage_cached_; }
  bool done() const { return done_; }
  std::uint64_t comments() const { return comments_; }

 private:
  void on_event(const http::SseEvent& ev) override;
  void on_comment(std::string_view text) override;

  http::SseParser parser_;
  unsigned new_tokens_ = 0;
  std::uint64_t content_chunks_ = 0;
  std::uint64_t comments_ = 0;
  std::int64_t usage_tokens_ = -1;
  std::int64_t usage_prompt_ = -1;
  std::int64_t usage_cached_ = 0;
  bool done_ = false;
  bool malformed_ = false;
  bool error_event_ = false;
  bool insufficient_ = false;
};

}  // namespace sluice::bench
