// Provider keys echoed by an upstream never reach the client: whole, truncated, repeated, or several keys.
#include "common/secret_scrubber.h"

#include <gtest/gtest.h>

namespace sluice {
namespace {

TEST(SecretScrubber, RedactsWholeAndTruncatedEchoes) {
  const SecretScrubber s({"sk-live-0123456789abcdef"});
  std::string body = R"({"error":{"message":"bad header: Bearer sk-live-0123456789abcdef; was sk-live-01234..."}})";
  EXPECT_EQ(s.scrub(body), 2u);
  EXPECT_EQ(body, R"({"error":{"message":"bad header: Bearer [redacted]; was [redacted]..."}})");
}

TEST(SecretScrubber, LeavesTextWithoutTheDistinctivePrefixAlone) {
  const SecretScrubber s({"sk-live-0123456789abcdef"});
  std::string body = R"({"error":{"message":"Incorrect API key provided: sk-live-***cdef"}})";
  const std::string before = body;
  EXPECT_EQ(s.scrub(body), 0u);
  EXPECT_EQ(body, before);
}

TEST(SecretScrubber, EveryKeyAndEveryOccurrence) {
  const SecretScrubber s({"key-aaaaaaaa-1", "key-bbbbbbbb-2", "key-aaaaaaaa-1"});
  std::string body = "key-aaaaaaaa-1 key-bbbbbbbb-2 key-aaaaaaaa-1key-bbbbbbbb-2";
  EXPECT_EQ(s.scrub(body), 4u);
  EXPECT_EQ(body, "[redacted] [redacted] [redacted][redacted]");
}

TEST(SecretScrubber, IgnoresTooShortSecretsAndEmptyText) {
  const SecretScrubber s({"abc", ""});
  EXPECT_TRUE(s.empty());
  std::string body = "abc abc";
  EXPECT_EQ(s.scrub(body), 0u);
  std::string empty;
  EXPECT_EQ(SecretScrubber({"sk-12345678"}).scrub(empty), 0u);
}

TEST(SecretScrubber, ShortSecretRedactedWhole) {
  const SecretScrubber s({"k-42x"});
  std::string body = "echo k-42x and k-42";
  EXPECT_EQ(s.scrub(body), 1u);
  EXPECT_EQ(body, "echo [redacted] and k-42");
}

}  // namespace
}  // namespace sluice
