// The client headers kept from the upstream request: every listed name in any letter case, and nothing else
// (names of the same lengths as listed ones included, since the check dispatches on length).
#include "gateway/forward_headers.h"

#include <gtest/gtest.h>

#include <cctype>
#include <string>

namespace sluice::gateway {
namespace {

constexpr std::string_view kDropped[] = {"te",
                                         "host",
                                         "accept",
                                         "cookie",
                                         "expect",
                                         "api-key",
                                         "trailer",
                                         "upgrade",
                                         "x-api-key",
                                         "connection",
                                         "keep-alive",
                                         "user-agent",
                                         "content-type",
                                         "x-request-id",
                                         "authorization",
                                         "content-length",
                                         "accept-encoding",
                                         "proxy-connection",
                                         "transfer-encoding",
                                         "x-request-timeout",
                                         "proxy-authorization"};

std::string upper(std::string_view s) {
  std::string u(s);
  for (char& c : u) {
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return u;
}

TEST(ForwardHeaders, DropsEveryListedNameInAnyCase) {
  for (std::string_view n : kDropped) {
    EXPECT_FALSE(forwardable_header(n)) << n;
    EXPECT_FALSE(forwardable_header(upper(n))) << n;
    std::string mixed(n);
    mixed[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(mixed[0])));
    EXPECT_FALSE(forwardable_header(mixed)) << mixed;
  }
}

TEST(ForwardHeaders, KeepsOtherNamesOfTheSameLengths) {
  for (std::string_view n : kDropped) {
    std::string other(n);
    other.back() = other.back() == 'z' ? 'y' : 'z';  // same length, another name
    EXPECT_TRUE(forwardable_header(other)) << other;
  }
  for (std::string_view n :
       {"x-custom-thing", "openai-organization", "x-priority", "x-sluice-cache", "a", ""}) {
    EXPECT_TRUE(forwardable_header(n)) << n;
  }
}

}  // namespace
}  // namespace sluice::gateway
