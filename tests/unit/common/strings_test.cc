#include "common/strings.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "common/string_writer.h"

namespace sluice {
namespace {

TEST(StringsTrim, DropsSpacesAndTabsByDefault) {
  EXPECT_EQ(trim("  \ta b\t "), "a b");
  EXPECT_EQ(trim("ab"), "ab");
  EXPECT_EQ(trim(" \t "), "");
  EXPECT_EQ(trim(""), "");
  EXPECT_EQ(trim("\na\n"), "\na\n");  // newlines are kept unless asked for
}

TEST(StringsTrim, UsesTheGivenCharacters) {
  EXPECT_EQ(trim("\r\n {} \t\n", kJsonWhitespace), "{}");
  EXPECT_EQ(trim(" \tx ", " "), "\tx");
}

TEST(StringsEqualsLower, ComparesAsciiCaseInsensitivelyWithALowercaseName) {
  EXPECT_TRUE(equals_lower("Content-Length", "content-length"));
  EXPECT_TRUE(equals_lower("X-RATELIMIT-LIMIT-TOKENS", "x-ratelimit-limit-tokens"));
  EXPECT_TRUE(equals_lower("", ""));
  EXPECT_FALSE(equals_lower("content-lengt", "content-length"));
  EXPECT_FALSE(equals_lower("content-lengthx", "content-length"));
  EXPECT_FALSE(equals_lower("Content-Lengti", "content-length"));
  EXPECT_FALSE(equals_lower("[", "{"));  // '[' is 'Z' + 1: not a letter, not folded
  EXPECT_FALSE(equals_lower("@", "`"));  // '@' is 'A' - 1
}

TEST(StringsEqualsLower, AgreesWithAByteByByteReferenceForEveryByteAndPosition) {
  auto reference = [](std::string_view s, std::string_view lower) {
    if (s.size() != lower.size()) {
      return false;
    }
    for (std::size_t i = 0; i < s.size(); ++i) {
      const unsigned char c = static_cast<unsigned char>(s[i]);
      if ((c >= 'A' && c <= 'Z' ? c + 32 : c) != static_cast<unsigned char>(lower[i])) {
        return false;
      }
    }
    return true;
  };
  const std::string base = "x-ratelimit-remaining-tokens";  // 28 bytes: three words and a tail
  for (std::size_t len = 0; len <= base.size(); ++len) {
    const std::string lower = base.substr(0, len);
    for (std::size_t pos = 0; pos < len; ++pos) {
      for (int b = 0; b < 256; ++b) {
        std::string s = lower;
        s[pos] = static_cast<char>(b);
        ASSERT_EQ(equals_lower(s, lower), reference(s, lower))
            << "len " << len << " pos " << pos << " byte " << b;
      }
    }
  }
}

TEST(StringWriter, AppendsPiecesNumbersAndFieldsAfterWhatTheStringHolds) {
  std::string s = "HTTP/1.1 ";
  {
    StringWriter w(s);
    w << 200u << ' ' << std::string_view("OK") << std::string_view("\r\n");
    w.field("Content-Length", "0");
    w << std::numeric_limits<std::int64_t>::min() << ':' << std::uint16_t{65535}
      << std::numeric_limits<std::uint64_t>::max() << std::string_view();
  }
  EXPECT_EQ(s, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n-9223372036854775808:6553518446744073709551615");
  EXPECT_GE(s.capacity(), s.size());
}

TEST(StringWriter, KeepsEveryByteOfPiecesPastItsBuffer) {
  std::string s;
  std::string expected;
  {
    StringWriter w(s);
    for (int i = 0; i < 500; ++i) {
      const std::string piece(static_cast<std::size_t>(i % 37), static_cast<char>('a' + i % 26));
      w << std::string_view(piece) << i;
      expected += piece + std::to_string(i);
    }
  }
  EXPECT_EQ(s, expected);
}

TEST(StringWriter, KeepsPiecesLargerThanItsBufferAndFieldsAcrossItsEnd) {
  std::string s = "x";
  std::string expected = "x";
  const std::string big(5000, 'b');
  {
    StringWriter w(s);
    for (int i = 0; i < 300; ++i) {  // fields land across every offset of the buffer's end
      const std::string value(static_cast<std::size_t>(i % 11), 'v');
      w.field("Name", value);
      expected += "Name: " + value + "\r\n";
      if (i % 97 == 0) {
        w << std::string_view(big) << 'c' << -7;
        expected += big + "c-7";
      }
    }
  }
  EXPECT_EQ(s, expected);
}

TEST(StringsBearerToken, TakesTheTokenOfTheBearerSchemeInAnyCase) {
  EXPECT_EQ(bearer_token("Bearer sk-1"), "sk-1");
  EXPECT_EQ(bearer_token("bEaReR   sk-2"), "sk-2");  // spaces before the token are skipped
  EXPECT_EQ(bearer_token("Bearer "), "");            // the scheme without a token: present, empty
  EXPECT_EQ(bearer_token("Bearer"), std::nullopt);
  EXPECT_EQ(bearer_token("Basic dXNlcjpwYXNz"), std::nullopt);
  EXPECT_EQ(bearer_token("Bearersk-3"), std::nullopt);
  EXPECT_EQ(bearer_token(""), std::nullopt);
}

TEST(StringsListItems, TrimsAndSkipsEmptyItems) {
  std::vector<std::string> seen;
  auto collect = [&seen](std::string_view item) { seen.emplace_back(item); };
  for_each_list_item(" gzip ,\tchunked,, ,x ;q=1 ", collect);
  EXPECT_EQ(seen, (std::vector<std::string>{"gzip", "chunked", "x ;q=1"}));
  seen.clear();
  for_each_list_item("", collect);
  for_each_list_item(" , ,", collect);
  EXPECT_TRUE(seen.empty());
  for_each_list_item("close", collect);
  EXPECT_EQ(seen, (std::vector<std::string>{"close"}));
}

}  // namespace
}  // namespace sluice
