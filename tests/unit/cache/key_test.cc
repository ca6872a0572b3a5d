#include "cache/key.h"

#include <gtest/gtest.h>

namespace sluice::cache {
namespace {

constexpr std::string_view kPath = "/chat/completions";

TEST(CacheKey, IgnoresOrderSpacingShapeAndUser) {
  auto a =
      request_key(kPath, "g", R"({"model":"x","messages":[{"role":"user","content":"hi"}],"temperature":0})");
  auto b = request_key(kPath, "g",
                       R"({ "temperature" : 0.0, "stream": true, "stream_options": {"include_usage": true},
                            "user": "u1", "messages":[{"content":"hi","role":"user"}], "model":"y"})");
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->digest, b->digest);  // model is replaced by the routed group
}

TEST(CacheKey, AnswerChangingFieldsChangeTheKey) {
  auto base =
      request_key(kPath, "g", R"({"model":"x","messages":[{"role":"user","content":"hi"}],"temperature":0})");
  for (
      std::string_view other : {
          R"({"model":"x","messages":[{"role":"user","content":"ho"}],"temperature":0})",
          R"({"model":"x","messages":[{"role":"user","content":"hi"}],"temperature":0,"max_tokens":5})",
          R"({"model":"x","messages":[{"role":"user","content":"hi"}],"temperature":0,"tools":[]})",
          R"({"model":"x","messages":[{"role":"user","content":"hi"}],"temperature":0,"response_format":{"type":"json_object"}})",
      }) {
    auto k = request_key(kPath, "g", other);
    ASSERT_TRUE(k);
    EXPECT_NE(k->digest, base->digest) << other;
  }
  EXPECT_NE(request_key(kPath, "other-group", R"({"model":"x","messages":[],"temperature":0})")->digest,
            request_key(kPath, "g", R"({"model":"x","messages":[],"temperature":0})")->digest);
  EXPECT_NE(request_key("/completions", "g", R"({"model":"x","temperature":0})")->digest,
            request_key(kPath, "g", R"({"model":"x","temperature":0})")->digest);
}

// Which requests are deterministic (temperature 0) is RequestView.ZeroTemperature's test.
TEST(CacheKey, NoKeyForANonObjectBody) {
  EXPECT_FALSE(request_key(kPath, "g", "[1]"));
  EXPECT_FALSE(request_key(kPath, "g", "{"));
}

TEST(CacheControl, Directives) {
  EXPECT_TRUE(parse_cache_control("no-cache").no_cache);
  EXPECT_FALSE(parse_cache_control("no-cache").no_store);
  auto cc = parse_cache_control("max-age=0, No-Store");
  EXPECT_TRUE(cc.no_store);
  EXPECT_FALSE(cc.no_cache);
  EXPECT_FALSE(parse_cache_control("").no_cache);
  EXPECT_FALSE(parse_cache_control("no-cacheX").no_cache);
}

}  // namespace
}  // namespace sluice::cache
