#include "cache/shape.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace sluice::cache {
namespace {

namespace json = boost::json;

constexpr std::string_view kStream =
    "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":7,\"model\":\"deepseek-chat\","
    "\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}"
    "\n\n"
    "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":7,\"model\":\"deepseek-chat\","
    "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"},\"finish_reason\":null}]}\n\n"
    "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":7,\"model\":\"deepseek-chat\","
    "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"lo\"},\"finish_reason\":\"stop\"}]}\n\n"
    "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":7,\"model\":\"deepseek-chat\","
    "\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":2,\"total_tokens\":7,"
    "\"prompt_cache_hit_tokens\":0,\"prompt_cache_miss_tokens\":5}}\n\n"
    "data: [DONE]\n\n";

TEST(Shape, StreamToJson) {
  auto a = answer_from_sse(kStream);
  ASSERT_TRUE(a);
  auto v = json::parse(a->json).as_object();
  EXPECT_EQ(v["id"], "c1");
  EXPECT_EQ(v["object"], "chat.completion");
  auto& c = v["choices"].as_array()[0].as_object();
  EXPECT_EQ(c["message"].as_object()["content"], "Hello");
  EXPECT_EQ(c["message"].as_object()["role"], "assistant");
  EXPECT_EQ(c["finish_reason"], "stop");
  EXPECT_EQ(v["usage"].as_object()["prompt_tokens"], 5);
  EXPECT_EQ(a->usage.completion_tokens, 2);
  // The usage-only chunk is kept apart so a client that did not ask for it does not get it.
  EXPECT_NE(a->sse_usage.find("\"choices\":[]"), std::string::npos);
  EXPECT_EQ(a->sse_main.find("\"choices\":[]"), std::string::npos);
  EXPECT_EQ(a->sse_main.find("[DONE]"), std::string::npos);
  EXPECT_EQ(std::string(a->sse_main) + a->sse_usage + std::string(kSseDone),
            kStream);  // byte-identical replay
}

TEST(Shape, JsonToStreamRoundTrips) {
  std::string body =
      R"({"id":"x9","object":"chat.completion","created":3,"model":"deepseek-reasoner","choices":[{"index":0,)"
      R"("message":{"role":"assistant","content":"A","reasoning_content":"think","tool_calls":[{"id":"t1",)"
      R"("type":"function","function":{"name":"f","arguments":"{\"a\":1}"}}]},"logprobs":null,)"
      R"("finish_reason":"tool_calls"}],"usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}})";
  auto a = answer_from_json(body);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->json, body);
  auto back = answer_from_sse(a->sse_main + a->sse_usage + std::string(kSseDone));
  ASSERT_TRUE(back);
  auto v = json::parse(back->json).as_object();
  auto& m = v["choices"].as_array()[0].as_object()["message"].as_object();
  EXPECT_EQ(m["content"], "A");
  EXPECT_EQ(m["reasoning_content"], "think");
  auto& tc = m["tool_calls"].as_array()[0].as_object();
  EXPECT_EQ(tc["id"], "t1");
  EXPECT_EQ(tc["function"].as_object()["arguments"], "{\"a\":1}");
  EXPECT_EQ(v["choices"].as_array()[0].as_object()["finish_reason"], "tool_calls");
  EXPECT_EQ(v["usage"].as_object()["completion_tokens"], 4);
  EXPECT_EQ(v["model"], "deepseek-reasoner");
}

TEST(Shape, RejectsErrorsAndNonAnswers) {
  EXPECT_FALSE(answer_from_sse("data: {\"error\":{\"message\":\"x\"}}\n\ndata: [DONE]\n\n"));
  EXPECT_FALSE(answer_from_sse("data: not json\n\n"));
  EXPECT_FALSE(answer_from_sse("data: [DONE]\n\n"));
  EXPECT_FALSE(answer_from_json(R"({"error":{}})"));
  EXPECT_FALSE(answer_from_json("[]"));
}

// An upstream's tool-call or choice index is bounded and gapless: a huge or negative one makes the answer
// uncacheable instead of growing a vector to its size.
TEST(Shape, ToolCallAndChoiceIndicesAreBounded) {
  auto stream = [](std::string_view choice_index, std::string_view call_index) {
    return "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"model\":\"m\",\"choices\":[{\"index\":" +
           std::string(choice_index) + ",\"delta\":{\"tool_calls\":[{\"index\":" + std::string(call_index) +
           ",\"id\":\"t\",\"function\":{\"name\":\"f\",\"arguments\":\"{}\"}}]},\"finish_reason\":\"tool_calls\"}]}\n\n"
           "data: [DONE]\n\n";
  };
  EXPECT_TRUE(answer_from_sse(stream("0", "0")));
  EXPECT_FALSE(answer_from_sse(stream("0", "4000000000")));
  EXPECT_FALSE(answer_from_sse(stream("0", "-1")));
  EXPECT_FALSE(answer_from_sse(stream("0", "2")));  // a gap: call 2 before calls 0 and 1
  EXPECT_FALSE(answer_from_sse(stream("-5", "0")));
  EXPECT_FALSE(answer_from_sse(stream("100000", "0")));
}

}  // namespace
}  // namespace sluice::cache
