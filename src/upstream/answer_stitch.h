#pragma once
// Failover for non-stream answers the provider cut short (finish_reason insufficient_system_resource): the
// pieces of one answer, gathered across hosts, continued by prefix completion and merged into one answer for the
// client — the text joined, the usage summed over every piece (what the providers billed), the last piece's
// finish_reason. One per request, on one worker thread.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "config/config.h"
#include "openai/usage.h"

namespace sluice::upstream {

class AnswerStitch {
 public:
  // Takes the next piece (a complete chat.completion object). False when it cannot be stitched: not JSON, not
  // one choice with text (tool calls and reasoning cannot be continued from a prefix).
  bool add(std::string_view piece);
  bool empty() const { return pieces_ == 0; }
  unsigned resumes() const { return pieces_ > 0 ? pieces_ - 1 : 0; }
  // The request that continues the answer so far (see continuation_request in stitch.h).
  std::optional<std::string> continuation_body(std::string_view original, config::FailoverConfig::Mode mode) const;
  // One answer: the first piece's envelope, the joined text, the summed usage, the last finish_reason.
  std::string merged() const;
  const openai::Usage& usage() const { return usage_; }

 private:
  std::string first_;    // the first piece, whose envelope (id, model, created) the client gets
  std::string content_;  // the text of every piece so far
  std::string finish_;   // the last piece's finish_reason
  openai::Usage usage_;
  std::int64_t completion_ = 0;  // completion tokens billed so far (max_tokens of a continuation shrinks by it)
  unsigned pieces_ = 0;
};

}  // namespace sluice::upstream
