// The `upstreams` map: base_url parsing, credentials, TLS options and timeouts.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "config/loader.h"
#include "loader_test_util.h"

namespace sluice::config {
namespace {

using ::testing::ElementsAre;
using testing::errors;
using testing::load;
using testing::warnings;

// An upstream "up" with the given extra lines (indented 4) and one model; the extra lines start at line 4.
std::string upstream_yaml(std::string_view base_url, std::string_view extra = "") {
  return "upstreams:\n  up:\n    base_url: " + std::string(base_url) + "\n" + std::string(extra) +
         "models:\n  m:\n    upstream: up\n";
}

TEST(ConfigUpstreams, BaseUrlParsed) {
  const std::tuple<std::string_view, std::string_view, std::string_view, uint16_t, std::string_view> cases[] =
      {
          {"https://api.deepseek.com", "https", "api.deepseek.com", 443, ""},
          {"https://api.deepseek.com/", "https", "api.deepseek.com", 443, ""},
          {"http://127.0.0.1:9000/v1", "http", "127.0.0.1", 9000, "/v1"},
          {"http://127.0.0.1:9000/v1/", "http", "127.0.0.1", 9000, "/v1"},
          {"HTTP://Example.com/a/b//", "http", "Example.com", 80, "/a/b"},
          {"http://[::1]:8000/v1", "http", "::1", 8000, "/v1"},
          {"https://h:/x", "https", "h", 443, "/x"},
      };
  for (const auto& [url, scheme, host, port, path] : cases) {
    SCOPED_TRACE(url);
    const LoadResult r = load(upstream_yaml(url));
    ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errors(r));
    const Upstream& up = r.config->upstreams.at("up");
    EXPECT_EQ(up.scheme, scheme);
    EXPECT_EQ(up.host, host);
    EXPECT_EQ(up.port, port);
    EXPECT_EQ(up.base_path, path);
  }
}

TEST(ConfigUpstreams, BaseUrlRejected) {
  const std::pair<std::string_view, std::string_view> cases[] = {
      {"ftp://h", "unsupported scheme \"ftp\" (expected http or https)"},
      {"api.deepseek.com", "invalid URL \"api.deepseek.com\": expected http(s)://host[:port][/path]"},
      {"\"http://a b\"", "invalid URL \"http://a b\": expected http(s)://host[:port][/path]"},
      {"http:///v1", "missing host in \"http:///v1\""},
      {"http:v1", "missing host in \"http:v1\""},
      {"https://user:pw@h", "must not contain user info; use api_key_env for credentials"},
      {"https://h/v1?x=1", "must not contain a query string"},
      {"https://h/v1#frag", "must not contain a fragment"},
      {"https://h:0", "invalid port \"0\" (expected 1-65535)"},
      {"https://h:70000", "invalid port \"70000\" (expected 1-65535)"},
  };
  for (const auto& [url, message] : cases) {
    SCOPED_TRACE(url);
    EXPECT_THAT(errors(load(upstream_yaml(url))),
                ElementsAre("test.yaml:3: upstreams.up.base_url: " + std::string(message)));
  }
}

TEST(ConfigUpstreams, BaseUrlRequired) {
  EXPECT_THAT(errors(load("upstreams:\n  up:\n    tls_verify: true\nmodels:\n  m:\n    upstream: up\n")),
              ElementsAre("test.yaml:2: upstreams.up.base_url: missing required key"));
}

TEST(ConfigUpstreams, UnknownKey) {
  EXPECT_THAT(
      errors(load(upstream_yaml("http://h", "    api_key: sk-123\n"))),
      ElementsAre("test.yaml:4: upstreams.up.api_key: unknown key \"api_key\" (expected one of: base_url, "
                  "api_key_env, max_idle_connections, tls_ca_file, tls_verify, timeouts, outlier, key_pacing, "
                  "load_metrics, health_check, slow_start, forward_headers)"));
}

TEST(ConfigUpstreams, ForwardHeadersLowercasedAndNeverSecrets) {
  const LoadResult ok = load(upstream_yaml("http://h", "    forward_headers: [X-Tenant, x-trace-id]\n"));
  ASSERT_TRUE(ok.ok()) << ::testing::PrintToString(errors(ok));
  EXPECT_THAT(ok.config->upstreams.at("up").forward_headers, ElementsAre("x-tenant", "x-trace-id"));
  EXPECT_THAT(errors(load(upstream_yaml("http://h", "    forward_headers: [Authorization, x-sluice-admin-key, "
                                                     "\"bad name\"]\n"))),
              ElementsAre("test.yaml:4: upstreams.up.forward_headers[0]: \"authorization\" is never forwarded "
                          "(credentials, hop-by-hop, addresses and sluice's own headers stay at the gateway; "
                          "docs/security.md)",
                          "test.yaml:4: upstreams.up.forward_headers[1]: \"x-sluice-admin-key\" is never "
                          "forwarded (credentials, hop-by-hop, addresses and sluice's own headers stay at the "
                          "gateway; docs/security.md)",
                          "test.yaml:4: upstreams.up.forward_headers[2]: expected a header name, got \"bad name\""));
  EXPECT_THAT(errors(load(upstream_yaml("http://h", "    forward_headers: x-tenant\n"))),
              ElementsAre("test.yaml:4: upstreams.up.forward_headers: expected a list of header names, got "
                          "\"x-tenant\""));
}

TEST(ConfigUpstreams, NameValidated) {
  EXPECT_THAT(
      errors(load("upstreams:\n  \"my up\":\n    base_url: http://h\nmodels:\n  m:\n    upstream: my up\n")),
      ElementsAre("test.yaml:2: upstreams.my up: invalid upstream name \"my up\" (allowed characters: A-Z "
                  "a-z 0-9 _ . -)"));
}

TEST(ConfigUpstreams, AtLeastOne) {
  EXPECT_THAT(errors(load("upstreams: {}\nmodels:\n  m:\n    upstream: up\n")),
              ElementsAre("test.yaml:1: upstreams: must define at least one upstream"));
  EXPECT_THAT(errors(load("upstreams:\n  up: http://h\nmodels:\n  m:\n    upstream: up\n")),
              ElementsAre("test.yaml:2: upstreams.up: expected a map, got \"http://h\""));
}

TEST(ConfigUpstreams, ApiKeyFromEnv) {
  const LoadResult r = load(upstream_yaml("http://h", "    api_key_env: UP_KEY\n"), {{"UP_KEY", "sk-9"}});
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r.warnings.empty());
  EXPECT_EQ(r.config->upstreams.at("up").api_key, "sk-9");
  EXPECT_EQ(r.config->upstreams.at("up").api_key_env, "UP_KEY");
}

TEST(ConfigUpstreams, ApiKeyEnvUnsetIsWarning) {
  for (const testing::EnvMap& env : {testing::EnvMap{}, testing::EnvMap{{"UP_KEY", ""}}}) {
    const LoadResult r = load(upstream_yaml("http://h", "    api_key_env: UP_KEY\n"), env);
    ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errors(r));
    EXPECT_THAT(warnings(r),
                ElementsAre("test.yaml:4: upstreams.up.api_key_env: environment variable UP_KEY is "
                            "not set or empty; requests will be sent without an API key"));
    EXPECT_EQ(r.config->upstreams.at("up").api_key, "");
  }
}

TEST(ConfigUpstreams, ApiKeyEnvNameValidated) {
  EXPECT_THAT(
      errors(load(upstream_yaml("http://h", "    api_key_env: sk-live-123\n"))),
      ElementsAre("test.yaml:4: upstreams.up.api_key_env: invalid environment variable name \"sk-live-123\" "
                  "(expected letters, digits and _)"));
}

TEST(ConfigUpstreams, MaxIdleConnectionsRange) {
  EXPECT_THAT(
      errors(load(upstream_yaml("http://h", "    max_idle_connections: 100001\n"))),
      ElementsAre(
          "test.yaml:4: upstreams.up.max_idle_connections: must be between 0 and 100000, got 100001"));
  EXPECT_THAT(
      errors(load(upstream_yaml("http://h", "    max_idle_connections: lots\n"))),
      ElementsAre("test.yaml:4: upstreams.up.max_idle_connections: expected an integer, got \"lots\""));
  EXPECT_EQ(load(upstream_yaml("http://h", "    max_idle_connections: 100000\n"))
                .config->upstreams.at("up")
                .max_idle_connections,
            100000u);
}

TEST(ConfigUpstreams, TlsVerifyIsStrictBool) {
  EXPECT_THAT(errors(load(upstream_yaml("https://h", "    tls_verify: yes\n"))),
              ElementsAre("test.yaml:4: upstreams.up.tls_verify: expected true or false, got \"yes\""));
  EXPECT_THAT(
      errors(load(upstream_yaml("https://h", "    tls_verify: \"false\"\n"))),
      ElementsAre("test.yaml:4: upstreams.up.tls_verify: expected true or false, got the string \"false\""));
  EXPECT_FALSE(
      load(upstream_yaml("https://h", "    tls_verify: False\n")).config->upstreams.at("up").tls_verify);
}

TEST(ConfigUpstreams, TlsCaFileMustBeReadable) {
  const std::string missing = ::testing::TempDir() + "/sluice_no_such_ca.pem";
  EXPECT_THAT(errors(load(upstream_yaml("https://h", "    tls_ca_file: " + missing + "\n"))),
              ElementsAre("test.yaml:4: upstreams.up.tls_ca_file: cannot read CA file \"" + missing +
                          "\": No such file or directory"));
}

TEST(ConfigUpstreams, TlsCaFileOnHttpIsWarning) {
  const std::string ca = ::testing::TempDir() + "/sluice_upstreams_ca.pem";
  std::ofstream(ca) << "pem";
  const LoadResult https = load(upstream_yaml("https://h", "    tls_ca_file: " + ca + "\n"));
  ASSERT_TRUE(https.ok()) << ::testing::PrintToString(errors(https));
  EXPECT_TRUE(https.warnings.empty());
  EXPECT_EQ(https.config->upstreams.at("up").tls_ca_file, ca);
  const LoadResult http = load(upstream_yaml("http://h", "    tls_ca_file: " + ca + "\n"));
  ASSERT_TRUE(http.ok());
  EXPECT_THAT(warnings(http),
              ElementsAre("test.yaml:4: upstreams.up.tls_ca_file: ignored for http upstreams"));
  std::remove(ca.c_str());
}

TEST(ConfigUpstreams, TimeoutsUnknownKey) {
  EXPECT_THAT(
      errors(load(upstream_yaml("http://h", "    timeouts:\n      conect: 5s\n"))),
      ElementsAre("test.yaml:5: upstreams.up.timeouts.conect: unknown key \"conect\" (expected one of: "
                  "connect, first_token, idle, total)"));
}

TEST(ConfigUpstreams, TimeoutsValidated) {
  EXPECT_THAT(
      errors(load(upstream_yaml("http://h", "    timeouts: {connect: 5x}\n"))),
      ElementsAre("test.yaml:4: upstreams.up.timeouts.connect: invalid duration \"5x\": expected a number "
                  "followed by ms, s, m or h"));
  EXPECT_THAT(errors(load(upstream_yaml("http://h", "    timeouts:\n      idle: 0ms\n"))),
              ElementsAre("test.yaml:5: upstreams.up.timeouts.idle: must be greater than 0"));
  // An empty value points at its key's line, not at the next line where yaml-cpp marks it.
  EXPECT_THAT(errors(load(upstream_yaml("http://h", "    timeouts:\n      connect:\n      idle: 1s\n"))),
              ElementsAre("test.yaml:5: upstreams.up.timeouts.connect: expected a duration, got null"));
  EXPECT_THAT(errors(load(upstream_yaml("http://h", "    timeouts: 5s\n"))),
              ElementsAre("test.yaml:4: upstreams.up.timeouts: expected a map, got \"5s\""));
}

TEST(ConfigUpstreams, PhaseTimeoutsWithinTotal) {
  EXPECT_THAT(
      errors(load(upstream_yaml("http://h", "    timeouts:\n      first_token: 2m\n      total: 90s\n"))),
      ElementsAre("test.yaml:5: upstreams.up.timeouts.first_token: first_token (2m) must not exceed total "
                  "(90s)"));
  // Only total written: the default idle (60s) is too long, so the error points at total.
  EXPECT_THAT(
      errors(load(upstream_yaml("http://h", "    timeouts:\n      first_token: 10s\n      total: 30s\n"))),
      ElementsAre("test.yaml:6: upstreams.up.timeouts.total: idle (1m) must not exceed total (30s)"));
  const LoadResult ok =
      load(upstream_yaml("http://h", "    timeouts: {first_token: 10s, idle: 10s, total: 10s}\n"));
  ASSERT_TRUE(ok.ok()) << ::testing::PrintToString(errors(ok));
}

}  // namespace
}  // namespace sluice::config
