#include "openai/stream_options.h"

#include <gtest/gtest.h>

namespace sluice::openai {
namespace {

TEST(StreamOptions, InsertsWhenAbsentKeepingTheRest) {
  std::string b = R"({"model":"m", "stream":true,"messages":[]})";
  EXPECT_TRUE(request_stream_usage(b));
  EXPECT_EQ(b, R"({"stream_options":{"include_usage":true},"model":"m", "stream":true,"messages":[]})");
}

TEST(StreamOptions, SetsFalseOrMissingFlagInPlace) {
  std::string b = R"({"model":"m","stream_options":{"include_usage":false,"x":1} ,"stream":true})";
  EXPECT_TRUE(request_stream_usage(b));
  EXPECT_EQ(b, R"({"model":"m","stream_options":{"include_usage":true,"x":1} ,"stream":true})");
  std::string n = R"({"model":"m","stream_options":null,"stream":true})";
  EXPECT_TRUE(request_stream_usage(n));
  EXPECT_EQ(n, R"({"model":"m","stream_options":{"include_usage":true},"stream":true})");
}

TEST(StreamOptions, LeavesAClientThatAskedAlone) {
  std::string b = R"({"model":"m","stream_options":{"include_usage":true},"stream":true})";
  const std::string orig = b;
  EXPECT_FALSE(request_stream_usage(b));
  EXPECT_EQ(b, orig);
}

}  // namespace
}  // namespace sluice::openai
