// Top-level keys, server limits, YAML-level problems and load_file.
#include "config/loader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "common/sha256.h"
#include "loader_test_util.h"

namespace sluice::config {
namespace {

using ::testing::ElementsAre;
using testing::errors;
using testing::kMinimalTail;
using testing::load;
using testing::warnings;
using testing::with_tail;
using V = std::vector<std::string>;

TEST(ConfigLoader, MinimalConfigGetsDefaults) {
  const LoadResult r = load(kMinimalTail);
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errors(r));
  EXPECT_TRUE(r.warnings.empty());
  const Config& c = *r.config;
  const Config defaults;
  const ServerLimits dl;
  const UpstreamTimeouts dt;
  EXPECT_EQ(c.source, "test.yaml");
  EXPECT_EQ(c.listen.host, "127.0.0.1");
  EXPECT_EQ(c.listen.port, 8080);
  EXPECT_EQ(c.workers, 0u);
  EXPECT_EQ(c.log_level, "info");
  EXPECT_EQ(c.access_log, "stdout");
  EXPECT_EQ(c.limits.max_body_bytes, dl.max_body_bytes);
  EXPECT_EQ(c.limits.max_header_bytes, dl.max_header_bytes);
  EXPECT_EQ(c.limits.max_response_bytes, dl.max_response_bytes);
  EXPECT_EQ(c.limits.header_timeout, dl.header_timeout);
  EXPECT_EQ(c.limits.body_timeout, dl.body_timeout);
  EXPECT_EQ(c.limits.keepalive_timeout, dl.keepalive_timeout);
  EXPECT_EQ(c.limits.write_timeout, dl.write_timeout);
  EXPECT_EQ(c.limits.drain_timeout, dl.drain_timeout);
  EXPECT_TRUE(c.keys.empty());
  const Upstream& up = c.upstreams.at("up");
  EXPECT_EQ(up.name, "up");
  EXPECT_EQ(up.scheme, "http");
  EXPECT_EQ(up.host, "127.0.0.1");
  EXPECT_EQ(up.port, 9000);
  EXPECT_EQ(up.base_path, "/v1");
  EXPECT_EQ(up.api_key, "");
  EXPECT_EQ(up.api_key_env, "");
  EXPECT_EQ(up.max_idle_connections, 64u);
  EXPECT_EQ(up.tls_ca_file, "");
  EXPECT_TRUE(up.tls_verify);
  EXPECT_EQ(up.timeouts.connect, dt.connect);
  EXPECT_EQ(up.timeouts.first_token, dt.first_token);
  EXPECT_EQ(up.timeouts.idle, dt.idle);
  EXPECT_EQ(up.timeouts.total, dt.total);
  const Model& m = c.models.at("m");
  EXPECT_EQ(m.name, "m");
  EXPECT_EQ(m.deployments.at(0).upstream, "up");
  EXPECT_EQ(m.deployments.at(0).upstream_model, "m");
  EXPECT_EQ(m.owned_by, "up");
}

TEST(ConfigLoader, FullConfigRoundTrip) {
  const std::string ca = ::testing::TempDir() + "/sluice_config_full_ca.pem";
  std::ofstream(ca) << "-----BEGIN CERTIFICATE-----\n";
  const std::string yaml = R"(
listen: "[::1]:0"
workers: 4
log_level: debug
access_log: /var/log/sluice/access.log
server:
  max_body_bytes: 1MiB
  max_header_bytes: 8192
  max_response_bytes: 2GB
  header_timeout: 5s
  body_timeout: 1.5s
  keepalive_timeout: 2m
  write_timeout: 750ms
  drain_timeout: 0
keys:
  - name: team-a
    secret_env: TEAM_A_KEY
  - name: team.b_2
    secret_sha256: "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"
upstreams:
  deepseek:
    base_url: https://api.deepseek.com
    api_key_env: DEEPSEEK_API_KEY
  local:
    base_url: https://10.0.0.5:8443/openai/v1/
    max_idle_connections: 0
    tls_ca_file: )" + ca + R"(
    tls_verify: false
    timeouts: {connect: 250ms, first_token: 30s, idle: 10s, total: 1h}
models:
  deepseek-chat:
    upstream: deepseek
  fast:
    upstream: local
    model: Qwen/Qwen2.5-7B-Instruct
    owned_by: acme
)";
  const LoadResult r = load(yaml, {{"TEAM_A_KEY", "s3cret"}, {"DEEPSEEK_API_KEY", "sk-1"}});
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errors(r));
  EXPECT_TRUE(r.warnings.empty()) << ::testing::PrintToString(warnings(r));
  const Config& c = *r.config;
  EXPECT_EQ(c.listen.host, "::1");
  EXPECT_EQ(c.listen.port, 0);
  EXPECT_EQ(c.workers, 4u);
  EXPECT_EQ(c.log_level, "debug");
  EXPECT_EQ(c.access_log, "/var/log/sluice/access.log");
  EXPECT_EQ(c.limits.max_body_bytes, 1u << 20);
  EXPECT_EQ(c.limits.max_header_bytes, 8192u);
  EXPECT_EQ(c.limits.max_response_bytes, 2'000'000'000u);
  EXPECT_EQ(c.limits.header_timeout.count(), 5000);
  EXPECT_EQ(c.limits.body_timeout.count(), 1500);
  EXPECT_EQ(c.limits.keepalive_timeout.count(), 120'000);
  EXPECT_EQ(c.limits.write_timeout.count(), 750);
  EXPECT_EQ(c.limits.drain_timeout.count(), 0);
  ASSERT_EQ(c.keys.size(), 2u);
  EXPECT_EQ(c.keys[0].name, "team-a");
  EXPECT_EQ(c.keys[0].secret_sha256, sha256_hex("s3cret"));
  EXPECT_EQ(c.keys[1].name, "team.b_2");
  EXPECT_EQ(c.keys[1].secret_sha256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  ASSERT_EQ(c.upstreams.size(), 2u);
  const Upstream& ds = c.upstreams.at("deepseek");
  EXPECT_EQ(ds.name, "deepseek");
  EXPECT_EQ(ds.api_key, "sk-1");
  EXPECT_EQ(ds.port, 443);
  const Upstream& local = c.upstreams.at("local");
  EXPECT_EQ(local.scheme, "https");
  EXPECT_EQ(local.host, "10.0.0.5");
  EXPECT_EQ(local.port, 8443);
  EXPECT_EQ(local.base_path, "/openai/v1");
  EXPECT_EQ(local.max_idle_connections, 0u);
  EXPECT_EQ(local.tls_ca_file, ca);
  EXPECT_FALSE(local.tls_verify);
  EXPECT_EQ(local.timeouts.connect.count(), 250);
  EXPECT_EQ(local.timeouts.first_token.count(), 30'000);
  EXPECT_EQ(local.timeouts.idle.count(), 10'000);
  EXPECT_EQ(local.timeouts.total.count(), 3'600'000);
  const Model& fast = c.models.at("fast");
  EXPECT_EQ(fast.deployments.at(0).upstream, "local");
  EXPECT_EQ(fast.deployments.at(0).upstream_model, "Qwen/Qwen2.5-7B-Instruct");
  EXPECT_EQ(fast.owned_by, "acme");
  EXPECT_EQ(c.models.at("deepseek-chat").owned_by, "deepseek");
  std::remove(ca.c_str());
}

TEST(ConfigLoader, EmptyDocument) {
  EXPECT_THAT(errors(load("")), ElementsAre("test.yaml: config is empty"));
  EXPECT_THAT(errors(load("# just a comment\n\n")), ElementsAre("test.yaml: config is empty"));
  EXPECT_THAT(errors(load("---\n")), ElementsAre("test.yaml: config is empty"));
  EXPECT_EQ(load("").config, nullptr);
}

TEST(ConfigLoader, TopLevelMustBeMap) {
  EXPECT_THAT(errors(load("- a\n- b\n")), ElementsAre("test.yaml:1: top level must be a map, got a list"));
  EXPECT_THAT(errors(load("hello\n")), ElementsAre("test.yaml:1: top level must be a map, got \"hello\""));
}

TEST(ConfigLoader, SyntaxErrorHasParserLine) {
  const LoadResult r = load("listen: \"127.0.0.1:1\"\nupstreams: [a,\n");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].line, 3);
  EXPECT_EQ(r.errors[0].path, "");
  EXPECT_EQ(r.errors[0].to_string(), "test.yaml:3: end of sequence flow not found");
  EXPECT_EQ(r.config, nullptr);
}

TEST(ConfigLoader, UndefinedAliasIsSyntaxError) {
  EXPECT_THAT(errors(load("listen: *nope\n")),
              ElementsAre("test.yaml:1: the referenced anchor is not defined"));
}

TEST(ConfigLoader, MultipleDocumentsRejected) {
  EXPECT_THAT(errors(load(with_tail("") + "---\nlisten: \"a:1\"\n")),
              ElementsAre("test.yaml:8: multiple YAML documents are not supported"));
}

TEST(ConfigLoader, GarbageNeverThrows) {
  for (std::string_view text :
       {"{", "[", "\t- x", ": :", "a: b: c", "\x01\x02\xff", "!!binary x", "? [a]\n: 1\n"}) {
    SCOPED_TRACE(text);
    LoadResult r;
    EXPECT_NO_THROW(r = load(text));
    EXPECT_FALSE(r.ok());
    EXPECT_FALSE(r.errors.empty());
  }
}

// Found by tests/fuzz/fuzz_config.cc: yaml-cpp's LoadAll yields empty documents forever for a lone ",";
// the loader reads at most two documents.
TEST(ConfigLoader, EndlessDocumentStreamEnds) {
  EXPECT_THAT(errors(load(",")), ElementsAre("test.yaml: config is empty"));
  EXPECT_THAT(errors(load(with_tail("") + "---\n,\n")),
              ElementsAre(::testing::HasSubstr("multiple YAML documents are not supported")));
}

TEST(ConfigLoader, UnknownTopLevelKey) {
  EXPECT_THAT(errors(load(with_tail("listen: \"127.0.0.1:1\"\nworkerz: 2\n"))),
              ElementsAre(::testing::StartsWith("test.yaml:2: workerz: unknown key \"workerz\" (expected one of: "
                                                "listen, workers, log_level, access_log, server, keys, upstreams, "
                                                "models")));  // sections added later extend the list
}

TEST(ConfigLoader, DuplicateKey) {
  EXPECT_THAT(errors(load(with_tail("workers: 1\nworkers: 2\n"))),
              ElementsAre("test.yaml:2: workers: duplicate key \"workers\" (first defined at line 1)"));
}

TEST(ConfigLoader, MissingRequiredSections) {
  EXPECT_THAT(errors(load("workers: 1\n")), ElementsAre("test.yaml: upstreams: missing required key",
                                                        "test.yaml: models: missing required key"));
}

TEST(ConfigLoader, ListenAccepted) {
  const std::tuple<std::string_view, std::string_view, uint16_t> cases[] = {
      {"0.0.0.0:0", "0.0.0.0", 0},
      {"localhost:80", "localhost", 80},
      {"[::1]:9000", "::1", 9000},
      {"[::]:65535", "::", 65535},
  };
  for (const auto& [text, host, port] : cases) {
    SCOPED_TRACE(text);
    const LoadResult r = load(with_tail("listen: \"" + std::string(text) + "\"\n"));
    ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errors(r));
    EXPECT_EQ(r.config->listen.host, host);
    EXPECT_EQ(r.config->listen.port, port);
  }
}

TEST(ConfigLoader, ListenRejected) {
  for (std::string_view text : {"8080", "::1:80", "[::1]", "[::1]80", "[]:80", "host:", ":80", "host:65536",
                                "host:x", "host:-1", "a b:80", "[::1:80"}) {
    SCOPED_TRACE(text);
    EXPECT_THAT(errors(load(with_tail("listen: \"" + std::string(text) + "\"\n"))),
                ElementsAre("test.yaml:1: listen: invalid address \"" + std::string(text) +
                            "\": expected host:port or [ipv6]:port with port 0-65535"));
  }
  EXPECT_THAT(errors(load(with_tail("listen: [a]\n"))),
              ElementsAre("test.yaml:1: listen: expected a string, got a list"));
}

TEST(ConfigLoader, WorkersValidated) {
  EXPECT_THAT(errors(load(with_tail("workers: 300\n"))),
              ElementsAre("test.yaml:1: workers: must be between 0 and 256, got 300"));
  EXPECT_THAT(errors(load(with_tail("workers: -1\n"))),
              ElementsAre("test.yaml:1: workers: must be between 0 and 256, got -1"));
  EXPECT_THAT(errors(load(with_tail("workers: four\n"))),
              ElementsAre("test.yaml:1: workers: expected an integer, got \"four\""));
  EXPECT_THAT(errors(load(with_tail("workers: 2.5\n"))),
              ElementsAre("test.yaml:1: workers: expected an integer, got \"2.5\""));
  EXPECT_THAT(errors(load(with_tail("workers: \"4\"\n"))),
              ElementsAre("test.yaml:1: workers: expected an integer, got the string \"4\""));
  EXPECT_THAT(errors(load(with_tail("workers:\n"))),
              ElementsAre("test.yaml:1: workers: expected an integer, got null"));
  EXPECT_TRUE(load(with_tail("workers: 256\n")).ok());
}

TEST(ConfigLoader, LogLevelValidated) {
  EXPECT_THAT(
      errors(load(with_tail("log_level: verbose\n"))),
      ElementsAre("test.yaml:1: log_level: invalid log level \"verbose\" (expected one of: trace, debug, "
                  "info, warn, error, off)"));
  for (const char* level : {"trace", "debug", "info", "warn", "error", "off"}) {
    const LoadResult r = load(with_tail(std::string("log_level: ") + level + "\n"));
    ASSERT_TRUE(r.ok()) << level;
    EXPECT_EQ(r.config->log_level, level);
  }
}

TEST(ConfigLoader, AccessLogValidated) {
  EXPECT_THAT(errors(load(with_tail("access_log: \"\"\n"))),
              ElementsAre("test.yaml:1: access_log: must not be empty"));
  EXPECT_THAT(errors(load(with_tail("access_log: {a: 1}\n"))),
              ElementsAre("test.yaml:1: access_log: expected a string, got a map"));
  EXPECT_EQ(load(with_tail("access_log: off\n")).config->access_log, "off");
}

TEST(ConfigLoader, ServerUnknownKey) {
  EXPECT_THAT(
      errors(load(with_tail("server:\n  max_body: 1MiB\n"))),
      ElementsAre("test.yaml:2: server.max_body: unknown key \"max_body\" (expected one of: "
                  "max_body_bytes, max_header_bytes, max_response_bytes, header_timeout, body_timeout, "
                  "keepalive_timeout, write_timeout, drain_timeout, shutdown_delay, half_close)"));
}

TEST(ConfigLoader, ServerHalfClose) {
  EXPECT_FALSE(load(kMinimalTail).config->limits.finish_on_half_close);  // the default: cancel, like nginx
  EXPECT_TRUE(load(with_tail("server:\n  half_close: finish\n")).config->limits.finish_on_half_close);
  EXPECT_FALSE(load(with_tail("server:\n  half_close: cancel\n")).config->limits.finish_on_half_close);
  EXPECT_THAT(errors(load(with_tail("server:\n  half_close: wait\n"))),
              ElementsAre("test.yaml:2: server.half_close: expected cancel or finish, got \"wait\""));
}

TEST(ConfigLoader, ServerMustBeMap) {
  EXPECT_THAT(errors(load(with_tail("server: 5\n"))),
              ElementsAre("test.yaml:1: server: expected a map, got \"5\""));
  EXPECT_THAT(errors(load(with_tail("server:\n"))),
              ElementsAre("test.yaml:1: server: expected a map, got null"));
}

TEST(ConfigLoader, ServerSizesValidated) {
  const std::string kSizeHint = ": expected an integer optionally followed by B, KB, KiB, MB, MiB, GB or GiB";
  EXPECT_THAT(errors(load(with_tail("server:\n  max_body_bytes: 4mb\n"))),
              ElementsAre("test.yaml:2: server.max_body_bytes: invalid size \"4mb\"" + kSizeHint));
  EXPECT_THAT(errors(load(with_tail("server:\n  max_header_bytes: 0\n"))),
              ElementsAre("test.yaml:2: server.max_header_bytes: must be greater than 0"));
  EXPECT_THAT(errors(load(with_tail("server:\n  max_response_bytes: [1]\n"))),
              ElementsAre("test.yaml:2: server.max_response_bytes: expected a size, got a list"));
}

TEST(ConfigLoader, ServerDurationsValidated) {
  EXPECT_THAT(errors(load(with_tail("server:\n  header_timeout: 5x\n"))),
              ElementsAre("test.yaml:2: server.header_timeout: invalid duration \"5x\": expected a number "
                          "followed by ms, s, m or h"));
  for (const char* key : {"header_timeout", "body_timeout", "keepalive_timeout", "write_timeout"}) {
    EXPECT_THAT(errors(load(with_tail(std::string("server:\n  ") + key + ": 0s\n"))),
                ElementsAre(std::string("test.yaml:2: server.") + key + ": must be greater than 0"));
  }
  const LoadResult r = load(with_tail("server:\n  drain_timeout: 0s\n"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.config->limits.drain_timeout.count(), 0);
  EXPECT_EQ(r.config->limits.shutdown_delay.count(), 0);  // the default: drain at once
  EXPECT_EQ(load(with_tail("server:\n  shutdown_delay: 5s\n")).config->limits.shutdown_delay.count(), 5000);
  EXPECT_EQ(load(with_tail("server:\n  shutdown_delay: 0s\n")).config->limits.shutdown_delay.count(), 0);
  EXPECT_EQ(load(with_tail("server:\n  body_timeout: 2500\n")).config->limits.body_timeout.count(), 2500);
}

TEST(ConfigLoader, CollectsAllErrorsInOnePass) {
  const LoadResult r = load(R"(
listen: nope
workers: 999
server:
  body_timeout: soon
  bogus: 1
upstreams:
  up:
    base_url: ftp://x
models:
  m:
    upstream: missing
)");
  EXPECT_THAT(
      errors(r),
      ElementsAre("test.yaml:1: listen: invalid address \"nope\": expected host:port or [ipv6]:port with "
                  "port 0-65535",
                  "test.yaml:2: workers: must be between 0 and 256, got 999",
                  "test.yaml:5: server.bogus: unknown key \"bogus\" (expected one of: max_body_bytes, "
                  "max_header_bytes, max_response_bytes, header_timeout, body_timeout, "
                  "keepalive_timeout, write_timeout, drain_timeout, shutdown_delay, half_close)",
                  "test.yaml:4: server.body_timeout: invalid duration \"soon\": expected a number "
                  "followed by ms, s, m or h",
                  "test.yaml:8: upstreams.up.base_url: unsupported scheme \"ftp\" (expected http or https)",
                  "test.yaml:11: models.m.upstream: unknown upstream \"missing\" (defined upstreams: up)"));
  EXPECT_EQ(r.config, nullptr);
}

TEST(ConfigLoadFile, MissingFile) {
  const std::string path = ::testing::TempDir() + "/sluice_config_does_not_exist.yaml";
  const LoadResult r = load_file(path, testing::fake_env({}));
  EXPECT_THAT(errors(r), ElementsAre(path + ": cannot read file: No such file or directory"));
  EXPECT_EQ(r.config, nullptr);
}

TEST(ConfigLoadFile, DirectoryIsUnreadable) {
  const std::string dir = ::testing::TempDir();
  EXPECT_THAT(errors(load_file(dir, testing::fake_env({}))),
              ElementsAre(dir + ": cannot read file: Is a directory"));
}

TEST(ConfigLoadFile, UsesPathAsSource) {
  const std::string path = ::testing::TempDir() + "/sluice_config_load_file.yaml";
  std::ofstream(path) << "workers: x\n" << kMinimalTail;
  const LoadResult bad = load_file(path, testing::fake_env({}));
  EXPECT_THAT(errors(bad), ElementsAre(path + ":1: workers: expected an integer, got \"x\""));
  std::ofstream(path) << kMinimalTail;
  const LoadResult good = load_file(path, testing::fake_env({}));
  ASSERT_TRUE(good.ok()) << ::testing::PrintToString(errors(good));
  EXPECT_EQ(good.config->source, path);
  std::remove(path.c_str());
}

TEST(ConfigProcessEnv, ReadsEnvironment) {
  ::setenv("SLUICE_CONFIG_TEST_VAR", "value-1", 1);
  ::unsetenv("SLUICE_CONFIG_TEST_UNSET");
  const EnvLookup env = process_env();
  EXPECT_EQ(env("SLUICE_CONFIG_TEST_VAR"), "value-1");
  EXPECT_EQ(env("SLUICE_CONFIG_TEST_UNSET"), std::nullopt);
  ::unsetenv("SLUICE_CONFIG_TEST_VAR");
}

}  // namespace
}  // namespace sluice::config
