#include "http/openai_error.h"

#include <gtest/gtest.h>

#include "common/json.h"
#include "openai/usage.h"

namespace sluice::http {
namespace {

TEST(OpenAiError, Envelope) {
  EXPECT_EQ(openai_error_body("bad \"thing\"\n", "invalid_request_error", "invalid_json"),
            R"({"error":{"message":"bad \"thing\"\n","type":"invalid_request_error","param":null,)"
            R"("code":"invalid_json"}})");
  EXPECT_EQ(openai_error_body("m", "server_error", ""),
            R"({"error":{"message":"m","type":"server_error","param":null,"code":null}})");
}

TEST(JsonString, EscapesControlCharacters) {
  EXPECT_EQ(json_string(std::string("a\x01\tb\\", 5)), R"("a\u0001\tb\\")");
  EXPECT_TRUE(openai::is_valid_json(json_string("\x1f\r\n\"\\ünï")));
}

}  // namespace
}  // namespace sluice::http
