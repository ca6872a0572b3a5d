// The SSE parser: the events and comments it reports do not depend on how the stream is split, and an event
// written back with append_sse_event parses to the same event (what the relay relies on when it re-frames).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "http/sse.h"

namespace {

using sluice::fuzz::check;
using namespace sluice::http;

struct Recorder : SseSink {
  std::vector<std::string> seen;  // "E<event>\x01<data>" or "C<comment>"
  std::vector<std::pair<std::string, std::string>> events;
  void on_event(const SseEvent& ev) override {
    check(!ev.one_line || ev.data.find('\n') == std::string_view::npos, "one_line means no LF in the data");
    seen.push_back("E" + std::string(ev.event) + "\x01" + std::string(ev.data));
    events.emplace_back(ev.event, ev.data);
  }
  void on_comment(std::string_view text) override { seen.push_back("C" + std::string(text)); }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  Recorder whole;
  SseParser a;
  check(a.feed(in, whole), "no failure below the event limit");

  Recorder pieces;
  SseParser b;
  sluice::fuzz::Cuts cuts{data[0] * 2246822519u + 7};
  for (std::size_t at = 0; at < in.size();) {
    const std::size_t n = cuts.next(in.size() - at);
    check(b.feed(in.substr(at, n), pieces), "no failure below the event limit");
    at += n;
  }
  check(whole.seen == pieces.seen, "the same events and comments at any split");
  check(a.mid_event() == b.mid_event(), "the same state at the end");

  // Round trip: each event, written canonically, parses back to itself.
  std::string wire;
  for (const auto& [event, payload] : whole.events) {
    append_sse_event(wire, SseEvent{event, payload, payload.find('\n') == std::string::npos});
  }
  Recorder again;
  SseParser c;
  check(c.feed(wire, again), "re-framed events parse");
  check(again.events == whole.events, "re-framed events are the same events");
  return 0;
}
