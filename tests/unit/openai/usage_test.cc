#include "openai/usage.h"

#include <gtest/gtest.h>

#include <string>

namespace sluice::openai {
namespace {

TEST(Usage, ExtractsDeepSeekUsage) {
  auto u = extract_usage(
      R"({"choices":[],"usage":{"prompt_tokens":10,"completion_tokens":20,"total_tokens":30,)"
      R"("prompt_cache_hit_tokens":6,"prompt_cache_miss_tokens":4,"completion_tokens_details":{"reasoning_tokens":12}}})");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->prompt_tokens, 10);
  EXPECT_EQ(u->completion_tokens, 20);
  EXPECT_EQ(u->total_tokens, 30);
  EXPECT_EQ(u->prompt_cache_hit_tokens, 6);
  EXPECT_EQ(u->reasoning_tokens, 12);
}

TEST(Usage, AbsentNullOrMalformed) {
  EXPECT_FALSE(extract_usage(R"({"choices":[]})"));
  EXPECT_FALSE(extract_usage(R"({"usage":null})"));
  EXPECT_FALSE(extract_usage(R"({"usage":)"));
}

TEST(Usage, MissingOrNonIntegerCountsAreZeroAndTheMissIsDerived) {
  auto u = extract_usage(
      R"({"usage":{"extra":{"prompt_tokens":5},"completion_tokens":"7","prompt_cache_hit_tokens":6,)"
      R"("prompt_tokens":10,"completion_tokens_details":{"other":1}}})");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->prompt_tokens, 10);  // the nested object's key does not count
  EXPECT_EQ(u->completion_tokens, 0);
  EXPECT_EQ(u->total_tokens, 0);
  EXPECT_EQ(u->prompt_cache_hit_tokens, 6);
  EXPECT_EQ(u->prompt_cache_miss_tokens, 4);
  EXPECT_EQ(u->reasoning_tokens, 0);
}

TEST(Usage, AReportedMissIsKeptAndTheFirstOfARepeatedKeyCounts) {
  auto u = extract_usage(R"({"usage":{"prompt_tokens":10,"prompt_tokens":99,"prompt_cache_hit_tokens":3,)"
                         R"("prompt_cache_miss_tokens":0,"completion_tokens_details":null}})");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->prompt_tokens, 10);
  EXPECT_EQ(u->prompt_cache_miss_tokens, 0);  // reported, not derived (which would be 7)
  EXPECT_EQ(u->reasoning_tokens, 0);
  auto neg = extract_usage(R"({"usage":{"prompt_tokens":2,"prompt_cache_hit_tokens":5}})");
  ASSERT_TRUE(neg);
  EXPECT_EQ(neg->prompt_cache_miss_tokens, 0);  // derived, never negative
}

TEST(Usage, UsageThatIsNotAnObject) {
  EXPECT_FALSE(extract_usage(R"({"usage":[1,2]})"));
  EXPECT_FALSE(extract_usage(R"({"usage":3})"));
  std::string body = R"({"id":"x","usage":"n/a"})";
  const ResponseFacts f = inspect_response(body);
  EXPECT_TRUE(f.valid);  // valid JSON, no usage
  EXPECT_FALSE(f.usage);
}

// A buffered answer in one parse: usage, an error object sent with 200, an answer the provider cut short.
TEST(Usage, InspectsABufferedAnswer) {
  std::string ok = R"({"id":"x","choices":[{"index":0,"message":{"content":"hi"},"finish_reason":"stop"}],)"
                   R"("usage":{"prompt_tokens":3,"completion_tokens":1}})";
  ResponseFacts f = inspect_response(ok);
  EXPECT_TRUE(f.valid);
  EXPECT_FALSE(f.error_object);
  EXPECT_FALSE(f.cut_short);
  ASSERT_TRUE(f.usage);
  EXPECT_EQ(f.usage->completion_tokens, 1);

  std::string error = R"({"error":{"message":"overloaded","type":"server_error"}})";
  f = inspect_response(error);
  EXPECT_TRUE(f.valid);
  EXPECT_TRUE(f.error_object);

  std::string cut = R"({"choices":[{"index":0,"message":{"content":"half"},)"
                    R"("finish_reason":"insufficient_system_resource"}]})";
  f = inspect_response(cut);
  EXPECT_TRUE(f.cut_short);
  EXPECT_FALSE(f.error_object);

  std::string embeddings = R"({"object":"list","data":[{"embedding":[0.1]}],"error":null})";
  f = inspect_response(embeddings);
  EXPECT_FALSE(f.error_object);
  std::string both = R"({"choices":[],"error":{"message":"x"}})";
  EXPECT_FALSE(inspect_response(both).error_object);  // an answer that mentions an error is still an answer
  std::string broken = R"({"choices":[)";
  EXPECT_FALSE(inspect_response(broken).valid);
}

TEST(Usage, InspectsAStreamChunkInOneParse) {
  auto content = inspect_chunk(R"({"choices":[{"delta":{"content":"the usage is"}}],"usage":null})");
  EXPECT_TRUE(content.valid);
  EXPECT_FALSE(content.usage);
  EXPECT_FALSE(content.usage_only);

  auto last = inspect_chunk(R"({"choices" : [ ],"usage":{"prompt_tokens":3,"completion_tokens":4}})");
  EXPECT_TRUE(last.valid);
  ASSERT_TRUE(last.usage);
  EXPECT_EQ(last.usage->completion_tokens, 4);
  EXPECT_TRUE(last.usage_only);

  auto finishing = inspect_chunk(R"({"choices":[{"finish_reason":"stop"}],"usage":{"prompt_tokens":3}})");
  ASSERT_TRUE(finishing.usage);
  EXPECT_FALSE(finishing.usage_only);  // it also carries a choice: never stripped
  EXPECT_FALSE(inspect_chunk(R"({"usage":{"prompt_tokens":3}})").usage_only);  // no choices at all

  EXPECT_FALSE(inspect_chunk(R"({"choices":[],"usage":{"prompt_tokens":)").valid);
  EXPECT_FALSE(inspect_chunk("").valid);
  auto scalar = inspect_chunk(R"("usage")");
  EXPECT_TRUE(scalar.valid);
  EXPECT_FALSE(scalar.usage);

  // A repeated key: the first occurrence counts, for "usage" and for "choices" alike.
  auto twice = inspect_chunk(
      R"({"usage":{"prompt_tokens":1},"choices":[],"usage":{"prompt_tokens":9},"choices":[{"delta":{}}]})");
  ASSERT_TRUE(twice.usage);
  EXPECT_EQ(twice.usage->prompt_tokens, 1);
  EXPECT_TRUE(twice.usage_only);
  auto usage_then_content =
      inspect_chunk(R"({"choices":[{"delta":{}}],"usage":{"total_tokens":2},"choices":[]})");
  ASSERT_TRUE(usage_then_content.usage);
  EXPECT_FALSE(usage_then_content.usage_only);
  EXPECT_FALSE(inspect_chunk(R"({"usage":7,"choices":[]})").usage);  // not an object
}

TEST(Usage, ValidJson) {
  EXPECT_TRUE(is_valid_json(R"({"a":[1,2,{"b":null}]})"));
  EXPECT_TRUE(is_valid_json(" {\"a\":1}\n"));
  EXPECT_FALSE(is_valid_json(R"({"a":)"));
  EXPECT_FALSE(is_valid_json("\n\n\n"));
  EXPECT_FALSE(is_valid_json(""));
}

// Found by tests/fuzz/fuzz_usage.cc: a derived miss never overflows, whatever a provider reports (UBSan
// aborts on INT64_MIN minus a hit count).
TEST(Usage, DerivedMissOfInsaneCountsIsClampedToZero) {
  auto u = extract_usage(R"({"usage":{"prompt_tokens":-9223372036854775808,"prompt_cache_hit_tokens":5}})");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->prompt_cache_miss_tokens, 0);
  u = extract_usage(R"({"usage":{"prompt_tokens":9223372036854775807,"prompt_cache_hit_tokens":-2}})");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->prompt_cache_miss_tokens, 9223372036854775807);
}

// Found by tests/fuzz/fuzz_usage.cc: a buffered answer's usage is the first "usage" member, as a stream
// chunk's is, even when that one is no object.
TEST(Usage, ResponseUsageIsTheFirstMemberLikeAChunks) {
  std::string body = R"({"usage":"x","choices":[],"usage":{"prompt_tokens":3}})";
  EXPECT_FALSE(inspect_response(body).usage);
  EXPECT_FALSE(extract_usage(body));
}

}  // namespace
}  // namespace sluice::openai
