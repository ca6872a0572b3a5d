#include "common/strings.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

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
