#include "http/sse.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sluice::http {
namespace {

struct Recorder : SseSink {
  std::vector<std::string> events;
  std::vector<std::string> names;
  std::vector<std::string> comments;
  void on_event(const SseEvent& ev) override {
    events.emplace_back(ev.data);
    names.emplace_back(ev.event);
  }
  void on_comment(std::string_view text) override { comments.emplace_back(text); }
};

TEST(SseParser, ParsesEventsAndKeepAliveComments) {
  SseParser p;
  Recorder r;
  ASSERT_TRUE(p.feed(": keep-alive\n\ndata: {\"a\":1}\n\n: keep-alive\n\ndata: [DONE]\n\n", r));
  EXPECT_EQ(r.events, (std::vector<std::string>{"{\"a\":1}", "[DONE]"}));
  EXPECT_EQ(r.comments, (std::vector<std::string>{"keep-alive", "keep-alive"}));
  EXPECT_FALSE(p.mid_event());
}

TEST(SseParser, EveryByteSplitGivesTheSameResult) {
  const std::string wire = "data: one\r\n\r\n: ping\r\ndata: two\rdata: lines\r\rdata:three\n\n";
  Recorder whole;
  SseParser p1;
  ASSERT_TRUE(p1.feed(wire, whole));
  ASSERT_EQ(whole.events, (std::vector<std::string>{"one", "two\nlines", "three"}));
  for (std::size_t cut = 0; cut <= wire.size(); ++cut) {
    Recorder r;
    SseParser p;
    ASSERT_TRUE(p.feed(wire.substr(0, cut), r));
    ASSERT_TRUE(p.feed(wire.substr(cut), r));
    EXPECT_EQ(r.events, whole.events) << "cut at " << cut;
    EXPECT_EQ(r.comments, whole.comments) << "cut at " << cut;
  }
}

TEST(SseParser, CrLfSplitAcrossFeedsIsOneLineEnd) {
  SseParser p;
  Recorder r;
  ASSERT_TRUE(p.feed("data: x\r", r));
  ASSERT_TRUE(p.feed("\n\r", r));
  ASSERT_TRUE(p.feed("\n", r));
  EXPECT_EQ(r.events, (std::vector<std::string>{"x"}));
}

TEST(SseParser, BlankLinesAloneDispatchNothing) {
  SseParser p;
  Recorder r;
  ASSERT_TRUE(p.feed("\n\n\n\r\n", r));
  EXPECT_TRUE(r.events.empty());
  EXPECT_TRUE(r.comments.empty());
}

TEST(SseParser, EventFieldAndUnknownFields) {
  SseParser p;
  Recorder r;
  ASSERT_TRUE(p.feed("event: error\nid: 7\nretry: 100\nfoo: bar\ndata: d\n\n", r));
  ASSERT_EQ(r.events.size(), 1u);
  EXPECT_EQ(r.names[0], "error");
  EXPECT_EQ(r.events[0], "d");
}

TEST(SseParser, FieldWithoutColonAndNoSpaceValue) {
  SseParser p;
  Recorder r;
  ASSERT_TRUE(p.feed("data\ndata:x\n\n", r));
  EXPECT_EQ(r.events, (std::vector<std::string>{"\nx"}));
}

TEST(SseParser, IncompleteEventIsHeldNotDispatched) {
  SseParser p;
  Recorder r;
  ASSERT_TRUE(p.feed("data: partial", r));
  EXPECT_TRUE(r.events.empty());
  EXPECT_TRUE(p.mid_event());
  ASSERT_TRUE(p.feed("\n", r));
  EXPECT_TRUE(p.mid_event());
  ASSERT_TRUE(p.feed("\n", r));
  EXPECT_EQ(r.events, (std::vector<std::string>{"partial"}));
}

TEST(SseParser, OversizedEventFailsAndStaysFailed) {
  SseParser p{32};
  Recorder r;
  EXPECT_FALSE(p.feed("data: " + std::string(40, 'x'), r));
  EXPECT_TRUE(p.failed());
  EXPECT_FALSE(p.feed("\n\n", r));
  EXPECT_TRUE(r.events.empty());

  SseParser q{32};
  EXPECT_FALSE(q.feed("data: " + std::string(20, 'x') + "\ndata: " + std::string(20, 'y') + "\n", r));
}

TEST(SseWriter, CanonicalForm) {
  std::string out;
  append_sse_event(out, SseEvent{"", "{\"a\":1}"});
  append_sse_event(out, SseEvent{"error", "l1\nl2"});
  EXPECT_EQ(out, "data: {\"a\":1}\n\nevent: error\ndata: l1\ndata: l2\n\n");
}

// The gateway's relay: each parsed event written back in canonical form. The parser marks the events whose
// data came in one line (the writer then does not search it for line breaks); the others must still be
// split into one "data:" line per line.
TEST(SseWriter, RelaysParsedEventsCanonically) {
  struct Relay : SseSink {
    std::string out;
    std::vector<bool> one_line;
    void on_event(const SseEvent& ev) override {
      one_line.push_back(ev.one_line);
      append_sse_event(out, ev);
    }
    void on_comment(std::string_view) override {}
  } relay;
  SseParser p;
  ASSERT_TRUE(p.feed("data: one\n\ndata: two\ndata: lines\n\nevent: e\ndata:x\r\n\r\ndata: \n\n", relay));
  EXPECT_EQ(relay.out, "data: one\n\ndata: two\ndata: lines\n\nevent: e\ndata: x\n\ndata: \n\n");
  EXPECT_EQ(relay.one_line, (std::vector<bool>{true, false, true, true}));
}

TEST(SseWriter, RoundTripsThroughParser) {
  std::string out;
  append_sse_event(out, SseEvent{"", "a\nb\n"});
  SseParser p;
  Recorder r;
  ASSERT_TRUE(p.feed(out, r));
  EXPECT_EQ(r.events, (std::vector<std::string>{"a\nb\n"}));
}

}  // namespace
}  // namespace sluice::http
