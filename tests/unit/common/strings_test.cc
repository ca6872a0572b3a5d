#include "common/strings.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

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

TEST(StringsAppendNumber, AppendsTheDecimalForm) {
  std::string s = "Content-Length: ";
  append_number(s, std::size_t{0});
  EXPECT_EQ(s, "Content-Length: 0");
  s.clear();
  append_number(s, std::numeric_limits<std::int64_t>::min());
  EXPECT_EQ(s, "-9223372036854775808");
  s = ":";
  append_number(s, std::uint16_t{65535});
  append_number(s, std::numeric_limits<std::uint64_t>::max());
  EXPECT_EQ(s, ":6553518446744073709551615");
}

}  // namespace
}  // namespace sluice
