#include "bench/outcome.h"

#include <gtest/gtest.h>

namespace sluice::bench {

TEST(BenchOutcome, Status) {
  EXPECT_EQ(classify_status(200), Outcome::kOk);
  EXPECT_EQ(classify_status(429), Outcome::kHttp429);
  EXPECT_EQ(classify_status(503), Outcome::kHttp503);
  EXPECT_EQ(classify_status(500), Outcome::kHttp5xx);
  EXPECT_EQ(classify_status(401), Outcome::kHttp4xx);
  EXPECT_EQ(outcome_name(Outcome::kHttp503), "http_503");
  EXPECT_EQ(outcome_name(Outcome::kProtocol), "protocol");
}

TEST(BenchOutcome, Errors) {
  EXPECT_EQ(classify_error(beast::error::timeout, false), Outcome::kTimeout);
  EXPECT_EQ(classify_error(net::error::connection_refused, true), Outcome::kConnect);
  EXPECT_EQ(classify_error(net::error::connection_reset, false), Outcome::kReset);
  EXPECT_EQ(classify_error(bhttp::error::partial_message, false), Outcome::kReset);
  EXPECT_EQ(classify_error(bhttp::error::bad_chunk, false), Outcome::kProtocol);
}

TEST(BenchOutcome, NonStreamBodies) {
  auto ok =
      check_body("\n\n{\"choices\":[{\"finish_reason\":\"stop\"}],\"usage\":{\"completion_tokens\":7}}");
  EXPECT_EQ(ok.outcome, Outcome::kOk);
  EXPECT_EQ(ok.completion_tokens, 7);
  EXPECT_EQ(check_body("\n\n\n\n").outcome, Outcome::kEmpty);
  EXPECT_EQ(check_body("").outcome, Outcome::kEmpty);
  EXPECT_EQ(check_body("{\"choices\":[{\"mess").outcome, Outcome::kProtocol);
  EXPECT_EQ(check_body("{\"error\":{\"message\":\"x\"}}").outcome, Outcome::kProtocol);
  EXPECT_EQ(check_body("{\"choices\":[{\"finish_reason\":\"insufficient_system_resource\"}]}").outcome,
            Outcome::kTruncated);
}

TEST(BenchOutcome, NonEmptyStringField) {
  EXPECT_TRUE(has_nonempty_string(R"({"delta":{"content":"hi"}})", "content"));
  EXPECT_TRUE(has_nonempty_string(R"({"delta":{"content" : "hi"}})", "content"));
  EXPECT_FALSE(has_nonempty_string(R"({"delta":{"role":"assistant","content":""}})", "content"));
  EXPECT_FALSE(has_nonempty_string(R"({"delta":{"content":null}})", "content"));
  EXPECT_FALSE(has_nonempty_string(R"({"delta":{"reasoning_content":"x"}})", "content"));
  EXPECT_TRUE(has_nonempty_string(R"({"delta":{"reasoning_content":"x"}})", "reasoning_content"));
}

namespace {
const char* kChunk = "data: {\"choices\":[{\"delta\":{\"content\":\"w\"}}]}\n\n";
}

TEST(BenchOutcome, StreamCountsTokensNotKeepAlives) {
  StreamCheck s;
  EXPECT_EQ(s.feed(": keep-alive\n\n: keep-alive\n\n"), 0u);
  EXPECT_EQ(s.feed("data: {\"choices\":[{\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n"), 0u);
  std::string two;
  two += kChunk;
  two += kChunk;
  EXPECT_EQ(s.feed(two), 2u);
  EXPECT_EQ(s.feed("data: {\"choices\":[{\"delta\":{\"con"), 0u);  // split across reads
  EXPECT_EQ(s.feed("tent\":\"x\"}}]}\n\n"), 1u);
  EXPECT_EQ(s.feed("data: {\"choices\":[],\"usage\":{\"completion_tokens\":3}}\n\ndata: [DONE]\n\n"), 0u);
  EXPECT_EQ(s.comments(), 2u);
  EXPECT_EQ(s.content_chunks(), 3u);
  EXPECT_EQ(s.completion_tokens(), 3);
  EXPECT_EQ(s.finish(), Outcome::kOk);
}

TEST(BenchOutcome, StreamVerdicts) {
  {
    StreamCheck s;
    s.feed(": keep-alive\n\n");
    EXPECT_EQ(s.finish(), Outcome::kEmpty);  // gave up while queued
  }
  {
    StreamCheck s;
    s.feed(kChunk);
    EXPECT_EQ(s.finish(), Outcome::kTruncated);  // no [DONE]
  }
  {
    StreamCheck s;
    s.feed(kChunk);
    s.feed("data: {\"choices\":[{\"delta\":{\"content\":\"x\n\ndata: [DONE]\n\n");
    EXPECT_EQ(s.finish(), Outcome::kProtocol);  // malformed chunk
  }
  {
    StreamCheck s;
    s.feed(kChunk);
    s.feed(
        "data: {\"choices\":[{\"delta\":{},\"finish_reason\":\"insufficient_system_resource\"}]}\n\ndata: "
        "[DONE]\n\n");
    EXPECT_EQ(s.finish(), Outcome::kTruncated);
  }
}

}  // namespace sluice::bench
