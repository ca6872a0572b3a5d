// The client headers that travel upstream: trace context and the configured names, in any letter case; never
// credentials, hop-by-hop fields, client-claimed addresses or sluice's own control headers.
#include "common/forward_policy.h"

#include <gtest/gtest.h>

#include <cctype>
#include <string>
#include <vector>

namespace sluice {
namespace {

std::string upper(std::string_view s) {
  std::string u(s);
  for (char& c : u) {
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return u;
}

TEST(ForwardPolicy, ForwardsTraceContextInAnyCase) {
  const std::vector<std::string> none;
  for (std::string_view n : {"traceparent", "tracestate"}) {
    EXPECT_TRUE(forwardable_header(n, none)) << n;
    EXPECT_TRUE(forwardable_header(upper(n), none)) << n;
  }
}

TEST(ForwardPolicy, DropsEverythingElseByDefault) {
  const std::vector<std::string> none;
  for (std::string_view n :
       {"x-sluice-admin-key", "X-Sluice-Admin-Key", "authorization", "x-forwarded-for", "forwarded", "x-real-ip",
        "via", "openai-organization", "x-priority", "x-custom-thing", "cookie", "x-stainless-os", "a", ""}) {
    EXPECT_FALSE(forwardable_header(n, none)) << n;
  }
}

TEST(ForwardPolicy, ForwardsConfiguredNamesInAnyCase) {
  const std::vector<std::string> extra{"x-tenant", "x-trace-id"};
  EXPECT_TRUE(forwardable_header("X-Tenant", extra));
  EXPECT_TRUE(forwardable_header("x-trace-id", extra));
  EXPECT_FALSE(forwardable_header("x-tenants", extra));
  EXPECT_FALSE(forwardable_header("x-tenan", extra));
}

TEST(ForwardPolicy, NeverForwardsCredentialsHopByHopAddressesOrOwnHeaders) {
  for (std::string_view n :
       {"authorization", "Proxy-Authorization", "api-key", "x-api-key", "cookie", "host", "content-length",
        "transfer-encoding", "te", "trailer", "upgrade", "connection", "keep-alive", "proxy-connection",
        "x-request-id", "x-priority", "x-request-timeout", "forwarded", "X-Forwarded-For", "x-real-ip", "via",
        "openai-organization", "x-sluice-admin-key", "X-SLUICE-ANYTHING"}) {
    EXPECT_TRUE(never_forwarded_header(n)) << n;
  }
  for (std::string_view n : {"traceparent", "x-tenant", "x-sluic", "x-sluice"}) {
    EXPECT_FALSE(never_forwarded_header(n)) << n;
  }
}

TEST(ForwardPolicy, FieldsNamedInConnectionAreHopByHop) {
  EXPECT_TRUE(named_in_connection("traceparent", "keep-alive, TraceParent"));
  EXPECT_TRUE(named_in_connection("X-Tenant", "x-tenant"));
  EXPECT_FALSE(named_in_connection("traceparent", "keep-alive, close"));
  EXPECT_FALSE(named_in_connection("traceparent", ""));
  EXPECT_FALSE(named_in_connection("trace", "traceparent"));
}

}  // namespace
}  // namespace sluice
