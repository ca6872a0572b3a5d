// Mid-stream failover's stitch: the stream's events (parsed from the input as SSE) go through on_event, a
// break asks for a continuation body, and the next events continue the stream. Whatever the events hold,
// rewritten events and continuation bodies are valid JSON.
#include <boost/json.hpp>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "upstream/stitch.h"
#include "http/sse.h"

namespace {

using sluice::fuzz::check;
using sluice::upstream::StreamStitch;

bool valid_json(std::string_view s) {
  boost::system::error_code ec;
  (void)boost::json::parse(s, ec);
  return !ec;
}

struct Driver : sluice::http::SseSink {
  StreamStitch stitch;
  std::string original;
  sluice::config::FailoverConfig::Mode mode{};
  std::string rewritten;
  void on_event(const sluice::http::SseEvent& ev) override {
    const auto verdict = stitch.on_event(ev.data, rewritten);
    if (!rewritten.empty()) {
      check(valid_json(rewritten), "a rewritten event is JSON");
    }
    if (verdict == StreamStitch::Verdict::kBreak && stitch.resumable()) {
      if (auto body = stitch.continuation_body(original, mode)) {
        check(valid_json(*body), "a continuation body is JSON");
        stitch.begin_continuation();
      }
    }
  }
  void on_comment(std::string_view) override {}
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  Driver d;
  d.mode = data[0] & 1 ? sluice::config::FailoverConfig::Mode::kContinue : sluice::config::FailoverConfig::Mode::kPrefix;
  d.original = R"({"model":"m","messages":[{"role":"user","content":"hi"}],"stream":true,"max_tokens":)" +
               std::to_string(data[1]) + (data[0] & 2 ? R"(,"max_completion_tokens":9223372036854775807})" : "}");
  sluice::http::SseParser parser;
  (void)parser.feed(std::string_view(reinterpret_cast<const char*>(data) + 2, size - 2), d);
  (void)d.stitch.content();
  return 0;
}
