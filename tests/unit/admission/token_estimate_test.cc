#include "admission/token_estimate.h"

#include <gtest/gtest.h>

namespace sluice::admission {
namespace {

TEST(TokenEstimate, AsciiAndCjkRates) {
  EXPECT_EQ(token_tenths("abcdefghij"), 30u);
  EXPECT_EQ(token_tenths("你好"), 12u);  // 2 characters, 6 bytes
}

TEST(TokenEstimate, ChatMessagesCountRoleColonContent) {
  std::string body = R"({"model":"m","messages":[{"role":"user","content":"0123456789"}]})";
  // "user:0123456789" = 15 ASCII chars → 4.5 → 5
  EXPECT_EQ(estimate_prompt_tokens(body), 5u);
  EXPECT_EQ(estimate_request_tokens(body, 100, 4096), 105u);
  EXPECT_EQ(estimate_request_tokens(body, std::nullopt, 4096), 4101u);
}

TEST(TokenEstimate, MultipartPromptAndInput) {
  EXPECT_EQ(estimate_prompt_tokens(R"({"messages":[{"role":"user","content":[{"type":"text","text":"abcdefghij"}]}]})"),
            5u);  // "user" + ':' = 15 tenths, + 30
  EXPECT_EQ(estimate_prompt_tokens(R"({"prompt":"abcdefghij"})"), 3u);
  EXPECT_EQ(estimate_prompt_tokens(R"({"input":["abcdefghij","abcdefghij"]})"), 6u);
  EXPECT_EQ(estimate_prompt_tokens("not json"), 0u);
}

}  // namespace
}  // namespace sluice::admission
