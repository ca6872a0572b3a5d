#include "upstream/stitch.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace sluice::upstream {
namespace {
using V = StreamStitch::Verdict;
namespace json = boost::json;

std::string chunk(std::string_view id, std::string_view delta, std::string_view finish = "null",
                  std::string_view usage = "") {
  std::string s = R"({"id":")" + std::string(id) + R"(","object":"chat.completion.chunk","choices":[{"index":0,"delta":)" +
                  std::string(delta) + R"(,"finish_reason":)" + std::string(finish) + "}]";
  if (!usage.empty()) {
    s += R"(,"usage":)" + std::string(usage);
  }
  return s + "}";
}

TEST(StreamStitch, FirstLegPassesThroughAndRecordsContent) {
  StreamStitch st;
  std::string rw;
  EXPECT_EQ(st.on_event(chunk("a", R"({"role":"assistant","content":""})"), rw), V::kForward);
  EXPECT_EQ(st.on_event(chunk("a", R"({"content":"Hello"})"), rw), V::kForward);
  EXPECT_EQ(st.on_event(chunk("a", R"({"content":" world"})"), rw), V::kForward);
  EXPECT_EQ(st.content(), "Hello world");
  EXPECT_EQ(st.content_chunks(), 2u);
  EXPECT_TRUE(st.resumable());
  EXPECT_FALSE(st.continuing());
}

TEST(StreamStitch, ContinuationDropsRoleKeepsIdAndSumsUsage) {
  StreamStitch st;
  std::string rw;
  st.on_event(chunk("orig", R"({"role":"assistant","content":""})"), rw);
  st.on_event(chunk("orig", R"({"content":"one"})"), rw);
  st.on_event(chunk("orig", R"({"content":" two"})"), rw);
  st.begin_continuation();
  EXPECT_EQ(st.on_event(chunk("other", R"({"role":"assistant","content":""})"), rw), V::kDrop);
  ASSERT_EQ(st.on_event(chunk("other", R"({"content":" three"})"), rw), V::kRewritten);
  auto v = json::parse(rw).as_object();
  EXPECT_EQ(v["id"].as_string(), "orig");
  ASSERT_EQ(st.on_event(chunk("other", R"({"content":""})", "\"stop\"",
                              R"({"prompt_tokens":20,"completion_tokens":1,"total_tokens":21})"),
                        rw),
            V::kRewritten);
  auto u = json::parse(rw).as_object()["usage"].as_object();
  EXPECT_EQ(u["completion_tokens"].as_int64(), 3) << "two chunks of the first leg plus one";
  EXPECT_EQ(u["total_tokens"].as_int64(), 23);
  EXPECT_EQ(st.on_event("[DONE]", rw), V::kForward);
  EXPECT_EQ(st.content(), "one two three");
}

TEST(StreamStitch, InsufficientSystemResourceBreaksWithoutFinishOrUsage) {
  StreamStitch st;
  std::string rw;
  st.on_event(chunk("a", R"({"content":"partial"})"), rw);
  EXPECT_EQ(st.on_event(chunk("a", R"({"content":""})", "\"insufficient_system_resource\"",
                              R"({"prompt_tokens":5,"completion_tokens":1,"total_tokens":6})"),
                        rw),
            V::kBreak);
  EXPECT_TRUE(rw.empty()) << "nothing of the cut chunk reaches the client";
  // With content in the same chunk, the content goes out without the finish_reason or usage.
  StreamStitch st2;
  ASSERT_EQ(st2.on_event(chunk("a", R"({"content":"x"})", "\"insufficient_system_resource\""), rw), V::kBreak);
  auto o = json::parse(rw).as_object();
  EXPECT_TRUE(o["choices"].as_array()[0].as_object()["finish_reason"].is_null());
  EXPECT_EQ(st2.content(), "x");
}

TEST(StreamStitch, MalformedOrErrorEventsBreak) {
  StreamStitch st;
  std::string rw;
  EXPECT_EQ(st.on_event(R"({"id":"a","choices":[{"delta":{"content":"x)", rw), V::kBreak);
  EXPECT_EQ(st.on_event(R"({"error":{"message":"boom"}})", rw), V::kBreak);
  // Found by fuzzing: a number beyond double's range would be written back as 1e99999, which is not JSON to
  // a strict client.
  EXPECT_EQ(st.on_event(R"({"id":"a","choices":[],"usage":{"completion_tokens":11e400}})", rw), V::kBreak);
}

TEST(StreamStitch, ToolCallsAndReasoningAreNotResumable) {
  StreamStitch a;
  std::string rw;
  a.on_event(chunk("a", R"({"tool_calls":[{"index":0,"function":{"name":"f"}}]})"), rw);
  EXPECT_FALSE(a.resumable());
  StreamStitch b;
  b.on_event(chunk("b", R"({"reasoning_content":"hmm"})"), rw);
  EXPECT_FALSE(b.resumable());
}

TEST(StreamStitch, ContinuationBodyAppendsPrefixAndReducesMaxTokens) {
  StreamStitch st;
  std::string rw;
  st.on_event(chunk("a", R"({"content":"Hi"})"), rw);
  st.on_event(chunk("a", R"({"content":" there"})"), rw);
  const std::string original =
      R"({"model":"m","stream":true,"max_tokens":10,"messages":[{"role":"user","content":"q"}]})";
  auto body = st.continuation_body(original, config::FailoverConfig::Mode::kPrefix);
  ASSERT_TRUE(body);
  auto o = json::parse(*body).as_object();
  EXPECT_EQ(o["max_tokens"].as_int64(), 8);
  auto& msgs = o["messages"].as_array();
  ASSERT_EQ(msgs.size(), 2u);
  EXPECT_EQ(msgs[1].as_object()["role"].as_string(), "assistant");
  EXPECT_EQ(msgs[1].as_object()["content"].as_string(), "Hi there");
  EXPECT_TRUE(msgs[1].as_object()["prefix"].as_bool());

  auto generic = st.continuation_body(original, config::FailoverConfig::Mode::kContinue);
  ASSERT_TRUE(generic);
  auto g = json::parse(*generic).as_object();
  ASSERT_EQ(g["messages"].as_array().size(), 3u);
  EXPECT_EQ(g["messages"].as_array()[2].as_object()["role"].as_string(), "user");
  EXPECT_FALSE(g["messages"].as_array()[1].as_object().contains("prefix"));

  const std::string spent = R"({"model":"m","max_tokens":2,"messages":[{"role":"user","content":"q"}]})";
  EXPECT_FALSE(st.continuation_body(spent, config::FailoverConfig::Mode::kPrefix)) << "max_tokens used up";
  EXPECT_FALSE(st.continuation_body("not json", config::FailoverConfig::Mode::kPrefix));
}

TEST(StreamStitch, BeforeAnyContentTheContinuationIsTheOriginalRequest) {
  StreamStitch st;
  std::string rw;
  st.on_event(chunk("a", R"({"role":"assistant","content":""})"), rw);
  const std::string original = R"({"model":"m","messages":[{"role":"user","content":"q"}]})";
  EXPECT_EQ(st.continuation_body(original, config::FailoverConfig::Mode::kPrefix), original);
}

}  // namespace
}  // namespace sluice::upstream
