// Cached answers as bytes for the shared store: a round trip keeps every field; damaged bytes are refused.
#include "cache/answer_codec.h"

#include <gtest/gtest.h>

namespace sluice::cache {
namespace {

CachedAnswer sample() {
  CachedAnswer a;
  a.json = R"({"id":"x","object":"chat.completion","choices":[]})";
  a.sse_main = "data: {\"a\":1}\n\n";
  a.sse_usage = std::string("data: {\"u\":\0}\n\n", 16);  // binary-safe
  a.usage.prompt_tokens = 12;
  a.usage.completion_tokens = 34;
  a.usage.total_tokens = 46;
  a.usage.prompt_cache_hit_tokens = 10;
  a.usage.prompt_cache_miss_tokens = 2;
  a.usage.reasoning_tokens = 7;
  a.upstream_model = "deepseek-chat";
  a.upstream = "ds";
  return a;
}

TEST(AnswerCodec, RoundTripKeepsEveryField) {
  const std::string bytes = encode_answer(sample(), 1'700'000'000'123);
  std::int64_t stored = 0;
  auto back = decode_answer(bytes, stored);
  ASSERT_TRUE(back);
  EXPECT_EQ(stored, 1'700'000'000'123);
  const CachedAnswer a = sample();
  EXPECT_EQ(back->json, a.json);
  EXPECT_EQ(back->sse_main, a.sse_main);
  EXPECT_EQ(back->sse_usage, a.sse_usage);
  EXPECT_EQ(back->upstream_model, a.upstream_model);
  EXPECT_EQ(back->upstream, a.upstream);
  EXPECT_EQ(back->usage.prompt_tokens, 12);
  EXPECT_EQ(back->usage.completion_tokens, 34);
  EXPECT_EQ(back->usage.total_tokens, 46);
  EXPECT_EQ(back->usage.prompt_cache_hit_tokens, 10);
  EXPECT_EQ(back->usage.prompt_cache_miss_tokens, 2);
  EXPECT_EQ(back->usage.reasoning_tokens, 7);
}

TEST(AnswerCodec, RefusesDamagedOrForeignBytes) {
  const std::string bytes = encode_answer(sample(), 5);
  std::int64_t stored = 0;
  EXPECT_FALSE(decode_answer(bytes.substr(0, bytes.size() - 1), stored));  // truncated
  EXPECT_FALSE(decode_answer(bytes + "x", stored));                        // trailing bytes
  EXPECT_FALSE(decode_answer("SLC2" + bytes.substr(4), stored));           // another version
  EXPECT_FALSE(decode_answer("", stored));
  std::string huge = bytes;
  huge[19] = '\x7f';  // the json length's top byte: far beyond the data
  EXPECT_FALSE(decode_answer(huge, stored));
}

}  // namespace
}  // namespace sluice::cache
