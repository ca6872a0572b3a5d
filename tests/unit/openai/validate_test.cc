// Request validation (openai/validate.h): each rule refuses what OpenAI refuses, names the parameter, and
// lets valid requests (and unknown members) through.
#include <gtest/gtest.h>

#include <string>

#include "openai/request_view.h"

namespace sluice::openai {
namespace {

std::optional<RequestError> check(Api api, std::string body) {
  body.reserve(body.size() + 64);
  RequestView v;
  return parse_request_view(body, api, v);
}

constexpr std::string_view kMsgs = R"("messages":[{"role":"user","content":"hi"}])";
// A chat body with `members` after model and messages.
std::string chat(std::string_view members) {
  return std::string(R"({"model":"m",)") + std::string(kMsgs) + (members.empty() ? "" : ",") +
         std::string(members) + "}";
}
std::string chat_messages(std::string_view messages) {
  return std::string(R"({"model":"m","messages":)") + std::string(messages) + "}";
}

struct Case {
  Api api;
  std::string body;
  std::string code;
  std::string param;
};
void PrintTo(const Case& c, std::ostream* os) { *os << c.body; }

class ValidateRejects : public ::testing::TestWithParam<Case> {};

TEST_P(ValidateRejects, WithCodeAndParam) {
  const Case& c = GetParam();
  const auto err = check(c.api, c.body);
  ASSERT_TRUE(err) << c.body;
  EXPECT_EQ(err->code, c.code) << err->message;
  EXPECT_EQ(err->param, c.param) << err->message;
  EXPECT_NE(err->message.find(c.param.empty() ? "" : c.param), std::string::npos) << err->message;
}

constexpr Api kChat = Api::kChatCompletions;
constexpr Api kCompl = Api::kCompletions;
constexpr Api kEmb = Api::kEmbeddings;

INSTANTIATE_TEST_SUITE_P(
    Messages, ValidateRejects,
    ::testing::Values(
        Case{kChat, R"({"model":"m"})", "missing_required_parameter", "messages"},
        Case{kChat, chat_messages("null"), "invalid_type", "messages"},
        Case{kChat, chat_messages("1"), "invalid_type", "messages"},
        Case{kChat, chat_messages("{}"), "invalid_type", "messages"},
        Case{kChat, chat_messages(R"("x")"), "invalid_type", "messages"},
        Case{kChat, chat_messages("[]"), "empty_array", "messages"},
        Case{kChat, chat_messages(R"(["hi"])"), "invalid_type", "messages[0]"},
        Case{kChat, chat_messages(R"([{"content":"hi"}])"), "missing_required_parameter", "messages[0].role"},
        Case{kChat, chat_messages(R"([{"role":7,"content":"hi"}])"), "invalid_type", "messages[0].role"},
        Case{kChat, chat_messages(R"([{"role":"User","content":"hi"}])"), "invalid_value",
             "messages[0].role"},
        Case{kChat, chat_messages(R"([{"role":"user","content":"a"},{"role":"robot","content":"b"}])"),
             "invalid_value", "messages[1].role"},
        Case{kChat, chat_messages(R"([{"role":"user"}])"), "missing_required_parameter",
             "messages[0].content"},
        Case{kChat, chat_messages(R"([{"role":"user","content":null}])"), "invalid_type",
             "messages[0].content"},
        Case{kChat, chat_messages(R"([{"role":"system","content":5}])"), "invalid_type",
             "messages[0].content"},
        Case{kChat, chat_messages(R"([{"role":"user","content":{"text":"x"}}])"), "invalid_type",
             "messages[0].content"},
        Case{kChat, chat_messages(R"([{"role":"user","content":[]}])"), "empty_array", "messages[0].content"},
        Case{kChat, chat_messages(R"([{"role":"user","content":["x"]}])"), "invalid_type",
             "messages[0].content[0]"},
        Case{kChat, chat_messages(R"([{"role":"user","content":[{"text":"x"}]}])"),
             "missing_required_parameter", "messages[0].content[0].type"},
        Case{kChat, chat_messages(R"([{"role":"user","content":[{"type":"text"}]}])"),
             "missing_required_parameter", "messages[0].content[0].text"},
        Case{kChat, chat_messages(R"([{"role":"user","content":[{"type":"text","text":1}]}])"),
             "invalid_type", "messages[0].content[0].text"},
        Case{kChat, chat_messages(R"([{"role":"assistant"}])"), "missing_required_parameter",
             "messages[0].content"},
        Case{kChat, chat_messages(R"([{"role":"assistant","content":null,"tool_calls":{}}])"), "invalid_type",
             "messages[0].tool_calls"},
        Case{kChat, chat_messages(R"([{"role":"tool","content":"42"}])"), "missing_required_parameter",
             "messages[0].tool_call_id"},
        Case{kChat, chat_messages(R"([{"role":"tool","content":"42","tool_call_id":1}])"), "invalid_type",
             "messages[0].tool_call_id"},
        Case{kChat, chat_messages(R"([{"role":"function","content":"42"}])"), "missing_required_parameter",
             "messages[0].name"},
        Case{kChat, chat_messages(R"([{"role":"user","content":"x","name":3}])"), "invalid_type",
             "messages[0].name"}));

INSTANTIATE_TEST_SUITE_P(
    Sampling, ValidateRejects,
    ::testing::Values(
        Case{kChat, chat(R"("temperature":"5")"), "invalid_type", "temperature"},
        Case{kChat, chat(R"("temperature":-1)"), "decimal_below_min_value", "temperature"},
        Case{kChat, chat(R"("temperature":2.01)"), "decimal_above_max_value", "temperature"},
        Case{kChat, chat(R"("temperature":true)"), "invalid_type", "temperature"},
        Case{kChat, chat(R"("top_p":1.5)"), "decimal_above_max_value", "top_p"},
        Case{kChat, chat(R"("top_p":-0.1)"), "decimal_below_min_value", "top_p"},
        Case{kChat, chat(R"("n":0)"), "integer_below_min_value", "n"},
        Case{kChat, chat(R"("n":129)"), "integer_above_max_value", "n"},
        Case{kChat, chat(R"("n":1.5)"), "invalid_type", "n"},
        Case{kChat, chat(R"("max_tokens":0)"), "integer_below_min_value", "max_tokens"},
        Case{kChat, chat(R"("max_tokens":-5)"), "integer_below_min_value", "max_tokens"},
        Case{kChat, chat(R"("max_tokens":"10")"), "invalid_type", "max_tokens"},
        Case{kChat, chat(R"("max_tokens":9223372036854775808)"), "integer_above_max_value", "max_tokens"},
        Case{kChat, chat(R"("max_completion_tokens":0)"), "integer_below_min_value", "max_completion_tokens"},
        Case{kChat, chat(R"("presence_penalty":2.5)"), "decimal_above_max_value", "presence_penalty"},
        Case{kChat, chat(R"("frequency_penalty":-3)"), "decimal_below_min_value", "frequency_penalty"},
        Case{kChat, chat(R"("stop":5)"), "invalid_type", "stop"},
        Case{kChat, chat(R"("stop":["a",1])"), "invalid_type", "stop[1]"},
        Case{kChat,
             chat(R"("stop":["1","2","3","4","5","6","7","8","9","10","11","12","13","14","15","16","17"])"),
             "array_above_max_length", "stop"},
        Case{kChat, chat(R"("stream":"true")"), "invalid_type", "stream"},
        Case{kChat, chat(R"("stream_options":[])"), "invalid_type", "stream_options"},
        Case{kChat, chat(R"("logprobs":1)"), "invalid_type", "logprobs"},
        Case{kChat, chat(R"("top_logprobs":21)"), "integer_above_max_value", "top_logprobs"},
        Case{kChat, chat(R"("seed":1.5)"), "invalid_type", "seed"},
        Case{kChat, chat(R"("user":1)"), "invalid_type", "user"},
        Case{kChat, chat(R"("logit_bias":[])"), "invalid_type", "logit_bias"},
        Case{kChat, chat(R"("logit_bias":{"50256":-101})"), "decimal_below_min_value", "logit_bias.50256"},
        Case{kChat, chat(R"("parallel_tool_calls":"yes")"), "invalid_type", "parallel_tool_calls"}));

INSTANTIATE_TEST_SUITE_P(
    Tools, ValidateRejects,
    ::testing::Values(Case{kChat, chat(R"("tools":{})"), "invalid_type", "tools"},
                      Case{kChat, chat(R"("tools":["f"])"), "invalid_type", "tools[0]"},
                      Case{kChat, chat(R"("tools":[{"function":{"name":"f"}}])"),
                           "missing_required_parameter", "tools[0].type"},
                      Case{kChat, chat(R"("tools":[{"type":"function"}])"), "missing_required_parameter",
                           "tools[0].function"},
                      Case{kChat, chat(R"("tools":[{"type":"function","function":"f"}])"), "invalid_type",
                           "tools[0].function"},
                      Case{kChat, chat(R"("tools":[{"type":"function","function":{}}])"),
                           "missing_required_parameter", "tools[0].function.name"},
                      Case{kChat, chat(R"("tools":[{"type":"function","function":{"name":""}}])"),
                           "empty_string", "tools[0].function.name"},
                      Case{kChat, chat(R"("tool_choice":"always")"), "invalid_value", "tool_choice"},
                      Case{kChat, chat(R"("tool_choice":1)"), "invalid_type", "tool_choice"},
                      Case{kChat, chat(R"("tool_choice":{"type":"function"})"), "missing_required_parameter",
                           "tool_choice.function"},
                      Case{kChat, chat(R"("response_format":"json")"), "invalid_type", "response_format"},
                      Case{kChat, chat(R"("response_format":{})"), "missing_required_parameter",
                           "response_format.type"},
                      Case{kChat, chat(R"("response_format":{"type":"json_schema"})"),
                           "missing_required_parameter", "response_format.json_schema"},
                      Case{kChat, chat(R"("response_format":{"type":"json_schema","json_schema":{}})"),
                           "missing_required_parameter", "response_format.json_schema.name"}));

INSTANTIATE_TEST_SUITE_P(
    CompletionsAndEmbeddings, ValidateRejects,
    ::testing::Values(
        Case{kCompl, R"({"model":"m"})", "missing_required_parameter", "prompt"},
        Case{kCompl, R"({"model":"m","prompt":null})", "invalid_type", "prompt"},
        Case{kCompl, R"({"model":"m","prompt":5})", "invalid_type", "prompt"},
        Case{kCompl, R"({"model":"m","prompt":[]})", "empty_array", "prompt"},
        Case{kCompl, R"({"model":"m","prompt":[{"a":1}]})", "invalid_type", "prompt[0]"},
        Case{kCompl, R"({"model":"m","prompt":[[1,-2]]})", "integer_below_min_value", "prompt[0][1]"},
        Case{kCompl, R"({"model":"m","prompt":"x","logprobs":true})", "invalid_type", "logprobs"},
        Case{kCompl, R"({"model":"m","prompt":"x","logprobs":21})", "integer_above_max_value", "logprobs"},
        Case{kCompl, R"({"model":"m","prompt":"x","echo":1})", "invalid_type", "echo"},
        Case{kCompl, R"({"model":"m","prompt":"x","suffix":1})", "invalid_type", "suffix"},
        Case{kCompl, R"({"model":"m","prompt":"x","best_of":0})", "integer_below_min_value", "best_of"},
        Case{kCompl, R"({"model":"m","prompt":"x","temperature":3})", "decimal_above_max_value",
             "temperature"},
        Case{kEmb, R"({"model":"m"})", "missing_required_parameter", "input"},
        Case{kEmb, R"({"model":"m","input":""})", "string_below_min_length", "input"},
        Case{kEmb, R"({"model":"m","input":["a",""]})", "string_below_min_length", "input[1]"},
        Case{kEmb, R"({"model":"m","input":[]})", "empty_array", "input"},
        Case{kEmb, R"({"model":"m","input":[[]]})", "empty_array", "input[0]"},
        Case{kEmb, R"({"model":"m","input":{"text":"a"}})", "invalid_type", "input"},
        Case{kEmb, R"({"model":"m","input":"a","encoding_format":"int8"})", "invalid_value",
             "encoding_format"},
        Case{kEmb, R"({"model":"m","input":"a","dimensions":0})", "integer_below_min_value", "dimensions"}));

// Finding 8 of #29: numbers simdjson cannot hold are named, not reported as invalid JSON.
INSTANTIATE_TEST_SUITE_P(
    Numbers, ValidateRejects,
    ::testing::Values(
        Case{kChat, chat(R"("temperature":1e400)"), "invalid_value", "temperature"},
        Case{kChat, chat(R"("max_tokens":18446744073709551616)"), "invalid_value", "max_tokens"},
        Case{kChat, chat(R"("seed":-9223372036854775809)"), "invalid_value", "seed"},
        Case{kChat, chat(R"("x":{"y":[1,2,-1E+999]})"), "invalid_value", "x.y[2]"},
        Case{kChat,
             chat_messages(R"([{"role":"user","content":"a\"b,\\"},{"role":"user","content":"c",)"
                           R"("n\"k":[0,99999999999999999999]}])"),
             "invalid_value", "messages[1].n\"k[1]"},
        Case{kChat, chat(R"("max_tokens":01)"), "invalid_json", ""},
        Case{kChat, chat(R"("max_tokens":1.)"), "invalid_json", ""}));

TEST(Validate, NumberMessagesSayWhatIsWrong) {
  const auto err = check(kChat, chat(R"("temperature":1e400)"));
  ASSERT_TRUE(err);
  EXPECT_EQ(
      err->message,
      "Invalid 'temperature': the number 1e400 is out of range. Integers must lie within -2^63 .. 2^64-1 and "
      "decimals within the range of a 64-bit float (about 1.8e308).");
  // Within range: fine (underflow to 0 is not out of range).
  EXPECT_FALSE(check(kChat, chat(R"("seed":-9223372036854775808,"x":18446744073709551615,"y":1e-400)")));
}

TEST(Validate, MessagesReadLikeOpenAis) {
  auto msg = [](Api api, std::string body) {
    return check(api, std::move(body)).value_or(RequestError{}).message;
  };
  EXPECT_EQ(msg(kChat, R"({"model":"m"})"), "Missing required parameter: 'messages'.");
  EXPECT_EQ(
      msg(kChat, chat_messages("[]")),
      "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array "
      "instead.");
  EXPECT_EQ(msg(kChat, chat_messages("1")),
            "Invalid type for 'messages': expected an array of objects, but got an integer instead.");
  EXPECT_EQ(msg(kChat, chat(R"("temperature":5)")),
            "Invalid 'temperature': decimal above maximum value. Expected a value <= 2, but got 5 instead.");
  EXPECT_EQ(msg(kChat, chat(R"("temperature":"5")")),
            "Invalid type for 'temperature': expected a decimal, but got a string instead.");
  EXPECT_EQ(
      msg(kChat, chat_messages(R"([{"role":"bot","content":"x"}])")),
      "Invalid value for 'messages[0].role': 'bot'. Supported values are: 'system', 'developer', 'user', "
      "'assistant', 'tool', and 'function'.");
  EXPECT_EQ(msg(kChat, chat(R"("n":0)")),
            "Invalid 'n': integer below minimum value. Expected a value >= 1, but got 0 instead.");
}

TEST(Validate, ValidRequestsPass) {
  const std::pair<Api, std::string> ok[] = {
      {kChat, chat("")},
      {kChat, chat(R"("temperature":0,"top_p":1,"n":1,"max_tokens":1,"presence_penalty":-2,)"
                   R"("frequency_penalty":2,"stop":"x","stream":false,"seed":-1,"user":"u","logprobs":true,)"
                   R"("top_logprobs":0,"logit_bias":{"1":100,"2":-100},"parallel_tool_calls":false,)"
                   R"("max_completion_tokens":5,"stream_options":{"include_usage":false})")},
      {kChat, chat(R"("temperature":2,"top_p":0,"stop":[],"stop":null)")},  // a repeated key: refused below
      {kChat, chat(R"("temperature":null,"top_p":null,"n":null,"max_tokens":null,"stop":null,"tools":null,)"
                   R"("tool_choice":null,"response_format":null,"stream_options":null,"user":null)")},
      {kChat, chat(R"("x_vendor":{"anything":[1,"2"]},"thinking":{"type":"enabled"},"top_k":5)")},
      {kChat, chat(R"("tools":[{"type":"function","function":{"name":"get_weather","parameters":{}}},)"
                   R"({"type":"custom","custom":{"name":"x"}}],"tool_choice":"auto")")},
      {kChat, chat(R"("tool_choice":{"type":"function","function":{"name":"f"}})")},
      {kChat, chat(R"("response_format":{"type":"json_schema","json_schema":{"name":"s","schema":{}}})")},
      {kChat, chat(R"("response_format":{"type":"json_object"})")},
      {kChat, chat_messages(
                  R"([{"role":"system","content":"s"},{"role":"developer","content":"d"},)"
                  R"({"role":"user","content":[{"type":"text","text":"t"},)"
                  R"({"type":"image_url","image_url":{"url":"data:x"}}]},)"
                  R"({"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function",)"
                  R"("function":{"name":"f","arguments":"{}"}}]},)"
                  R"({"role":"tool","tool_call_id":"c1","content":"42"},)"
                  R"({"role":"function","name":"f","content":null},)"
                  R"({"role":"assistant","content":"The answer","prefix":true,"reasoning_content":"r"}])")},
      {kCompl, R"({"model":"m","prompt":"once","suffix":"end","echo":false,"logprobs":5,"best_of":2})"},
      {kCompl, R"({"model":"m","prompt":["a","b"]})"},
      {kCompl, R"({"model":"m","prompt":[1,2,3]})"},
      {kCompl, R"({"model":"m","prompt":[[1],[2,3]]})"},
      {kCompl, R"({"model":"m","prompt":""})"},
      {kEmb, R"({"model":"m","input":"a","encoding_format":"base64","dimensions":256})"},
      {kEmb, R"({"model":"m","input":[[1,2],[3]],"user":"u"})"},
      {kEmb, R"({"model":"m","input":["a","b"],"messages":5,"temperature":"x"})"},  // not its members
  };
  for (const auto& [api, body] : ok) {
    const auto err = check(api, body);
    if (body.find(R"("stop":[],"stop")") != std::string::npos) {
      ASSERT_TRUE(err);
      EXPECT_EQ(err->code, "duplicate_key");
      continue;
    }
    EXPECT_FALSE(err) << body << ": " << err->message;
  }
}

// The model's own problems are reported before any other member's, whatever the order in the body.
TEST(Validate, ModelFirst) {
  const auto err = check(kChat, R"({"temperature":9,"messages":[]})");
  ASSERT_TRUE(err);
  EXPECT_EQ(err->param, "model");
  const auto second = check(kChat, R"({"messages":[],"temperature":9,"model":"m"})");
  ASSERT_TRUE(second);
  EXPECT_EQ(second->param, "messages");  // then the first invalid member in body order
}

TEST(Validate, ViewIsFilled) {
  std::string body =
      chat(R"("stream":true,"stream_options":{"include_usage":true},"max_tokens":7,"temperature":0)");
  body.reserve(body.size() + 64);
  RequestView v;
  ASSERT_FALSE(parse_request_view(body, kChat, v));
  EXPECT_TRUE(v.stream);
  EXPECT_TRUE(v.include_usage);
  EXPECT_EQ(v.max_tokens, 7);
  EXPECT_TRUE(v.zero_temperature);
  RequestView e;
  std::string emb = R"({"model":"m","input":"x","stream":true})";
  emb.reserve(emb.size() + 64);
  ASSERT_FALSE(parse_request_view(emb, kEmb, e));
  EXPECT_TRUE(e.stream);  // the gateway refuses streamed embeddings itself
}

}  // namespace
}  // namespace sluice::openai
