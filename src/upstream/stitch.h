#pragma once
// Mid-stream failover, the stream side: watches the SSE events of a chat completion as they go to the client,
// keeps the assistant text sent so far, and — when the stream breaks after content was sent — lets another
// attempt continue it. The continuation's events are made to look like the same completion: its role chunk is
// dropped, its id is the original one, and its usage counts the tokens of the earlier legs.
// One per request, on one worker thread.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/fwd.hpp>

#include "config/config.h"

namespace sluice::upstream {

// The request that continues a partial answer on another host: the conversation plus `answered` as an
// assistant prefix (DeepSeek chat prefix completion) or followed by a "continue" instruction; max_tokens reduced
// by `used_tokens`. Without an answer so far it is the original request. nullopt when the body cannot be rebuilt,
// or max_tokens is used up.
std::optional<std::string> continuation_request(std::string_view original, std::string_view answered,
                                                std::int64_t used_tokens, config::FailoverConfig::Mode mode);

class StreamStitch {
 public:
  enum class Verdict : std::uint8_t {
    kForward,    // send the event as it came
    kRewritten,  // send `rewritten` instead
    kDrop,       // send nothing
    kBreak,      // the stream is cut here (after sending `rewritten` when not empty): resume elsewhere
  };

  // The next attempt's events continue the stream already on the wire.
  void begin_continuation();
  Verdict on_event(std::string_view data, std::string& rewritten);

  bool continuing() const { return legs_ > 0; }
  // Nothing makes a continuation impossible (tool calls, reasoning text were sent).
  bool resumable() const { return !unresumable_; }
  const std::string& content() const { return content_; }
  std::uint64_t content_chunks() const { return chunks_; }
  unsigned resumes() const { return legs_; }

  // The request body for the next leg: the conversation plus the partial answer as an assistant prefix
  // (DeepSeek chat prefix completion) or followed by a "continue" instruction; max_tokens reduced by what was
  // sent. Before any content it is the original request. nullopt when the body cannot be rebuilt, or
  // max_tokens is used up.
  std::optional<std::string> continuation_body(std::string_view original,
                                               config::FailoverConfig::Mode mode) const;

 private:
  struct Edit;
  void on_id(boost::json::object& o, Edit& e);
  void on_choice(boost::json::object& c, Edit& e);
  void on_usage(boost::json::object& o, Edit& e) const;

  std::string content_;
  std::string id_;            // the first leg's completion id
  std::uint64_t chunks_ = 0;  // content chunks sent (about one token each)
  std::uint64_t chunks_before_leg_ = 0;
  unsigned legs_ = 0;  // continuations begun
  bool unresumable_ = false;
};

}  // namespace sluice::upstream
