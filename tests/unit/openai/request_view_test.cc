#include "openai/request_view.h"

#include <gtest/gtest.h>

namespace sluice::openai {
namespace {

// A chat request: the view's own fields plus the messages chat requires.
std::optional<RequestError> parse(std::string body, RequestView& v) {
  body.reserve(body.size() + 64);
  return parse_request_view(body, Api::kChatCompletions, v);
}
std::string with_messages(std::string body) {
  if (body.size() > 1 && body.front() == '{' && body.find("\"messages\"") == std::string::npos) {
    body.insert(1, R"("messages":[{"role":"user","content":"hi"}])" + std::string(body.size() > 2 ? "," : ""));
  }
  return body;
}

TEST(RequestView, ExtractsFields) {
  RequestView v;
  auto err = parse(R"({"model":"deepseek-chat","stream":true,"stream_options":{"include_usage":true},)"
                   R"("max_tokens":128,"messages":[{"role":"user","content":"hi"}]})",
                   v);
  ASSERT_FALSE(err) << err->message;
  EXPECT_EQ(v.model, "deepseek-chat");
  EXPECT_TRUE(v.stream);
  EXPECT_TRUE(v.include_usage);
  EXPECT_EQ(v.max_tokens, 128);
}

TEST(RequestView, DefaultsAndNulls) {
  RequestView v;
  ASSERT_FALSE(parse(with_messages(R"({"model":"m","stream":null,"max_tokens":null,"stream_options":null})"), v));
  EXPECT_FALSE(v.stream);
  EXPECT_FALSE(v.include_usage);
  EXPECT_FALSE(v.max_tokens);
}

// The cache's one determinism rule: temperature is the number 0, in any JSON spelling; anything else (absent,
// 0.7, null) may only be cached when config opts in. (The string "0" is refused: temperature is a number.)
TEST(RequestView, ZeroTemperature) {
  const std::pair<const char*, bool> cases[] = {
      {R"({"model":"m","temperature":0})", true},    {R"({"model":"m","temperature":0.0})", true},
      {R"({"model":"m","temperature":-0})", true},   {R"({"model":"m","temperature":0e3})", true},
      {R"({"model":"m","temperature":0.7})", false}, {R"({"model":"m"})", false},
      {R"({"model":"m","temperature":null})", false},
  };
  for (const auto& [body, zero] : cases) {
    RequestView v;
    ASSERT_FALSE(parse(with_messages(body), v)) << body;
    EXPECT_EQ(v.zero_temperature, zero) << body;
  }
}

TEST(RequestView, WorksWithoutPadding) {
  RequestView v;
  std::string body = R"({"model":"m","input":"x"})";
  body.shrink_to_fit();
  ASSERT_FALSE(parse_request_view(body, Api::kEmbeddings, v));
  EXPECT_EQ(v.model, "m");
}

struct BadCase {
  const char* body;
  const char* code;
  const char* param;
};

class RequestViewErrors : public ::testing::TestWithParam<BadCase> {};

TEST_P(RequestViewErrors, Rejected) {
  RequestView v;
  auto err = parse(with_messages(GetParam().body), v);
  ASSERT_TRUE(err) << GetParam().body;
  EXPECT_EQ(err->code, GetParam().code) << err->message;
  EXPECT_EQ(err->param, GetParam().param);
  EXPECT_FALSE(err->message.empty());
}

INSTANTIATE_TEST_SUITE_P(
    All, RequestViewErrors,
    ::testing::Values(BadCase{"", "invalid_json", ""}, BadCase{"{", "invalid_json", ""},
                      BadCase{R"({"model":"m",})", "invalid_json", ""},
                      BadCase{R"({"model":"m"} trailing)", "invalid_json", ""},
                      BadCase{"[1,2]", "invalid_json", ""}, BadCase{R"("str")", "invalid_json", ""},
                      BadCase{"{\"model\":\"\xff\"}", "invalid_json", ""},
                      BadCase{R"({"messages":[]})", "missing_required_parameter", "model"},
                      BadCase{R"({"model":42})", "invalid_type", "model"},
                      BadCase{R"({"model":""})", "invalid_value", "model"},
                      BadCase{R"({"model":"m","stream":"yes"})", "invalid_type", "stream"},
                      BadCase{R"({"model":"m","stream_options":true})", "invalid_type", "stream_options"},
                      BadCase{R"({"model":"m","stream_options":{"include_usage":1}})", "invalid_type",
                              "stream_options.include_usage"},
                      BadCase{R"({"model":"m","max_tokens":0})", "integer_below_min_value", "max_tokens"},
                      BadCase{R"({"model":"m","max_tokens":1.5})", "invalid_type", "max_tokens"},
                      BadCase{R"({"model":"a","messages":[],"model":"b"})", "duplicate_key", "model"},
                      BadCase{R"({"stream":false,"model":"a","stream":true})", "duplicate_key", "stream"}));

TEST(RewriteModel, ReplacesOnlyTopLevelModel) {
  std::string body =
      R"({"messages":[{"role":"user","content":"\"model\": \"x\""}],"tools":[{"model":"inner"}],)"
      R"( "model" : "deepseek-chat" , "stream":true})";
  ASSERT_TRUE(rewrite_model(body, "accounts/fireworks/models/deepseek-r1"));
  EXPECT_EQ(body,
            R"({"messages":[{"role":"user","content":"\"model\": \"x\""}],"tools":[{"model":"inner"}],)"
            R"( "model" : "accounts/fireworks/models/deepseek-r1" , "stream":true})");
}

TEST(RewriteModel, EscapesTheNewId) {
  std::string body = R"({"model":"a"})";
  ASSERT_TRUE(rewrite_model(body, "we\"ird\\id"));
  EXPECT_EQ(body, R"({"model":"we\"ird\\id"})");
  RequestView v;
  ASSERT_FALSE(parse(with_messages(body), v));
  EXPECT_EQ(v.model, "we\"ird\\id");
}

TEST(RewriteModel, FailsWithoutStringModel) {
  std::string a = R"({"x":1})";
  EXPECT_FALSE(rewrite_model(a, "m"));
  std::string b = R"({"model":7})";
  EXPECT_FALSE(rewrite_model(b, "m"));
  std::string c = "[1]";
  EXPECT_FALSE(rewrite_model(c, "m"));
}

}  // namespace
}  // namespace sluice::openai
