#include "common/strings.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace sluice
