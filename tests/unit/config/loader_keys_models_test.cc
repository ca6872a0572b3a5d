// The `keys` list and the `models` map.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/sha256.h"
#include "config/loader.h"
#include "loader_test_util.h"

namespace sluice::config {
namespace {

using ::testing::ElementsAre;
using testing::errors;
using testing::load;
using testing::with_tail;

constexpr std::string_view kHashA = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

TEST(ConfigKeys, SecretFromEnvIsHashed) {
  const LoadResult r = load(with_tail("keys:\n  - name: a\n    secret_env: KEY_A\n"), {{"KEY_A", "abc"}});
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errors(r));
  ASSERT_EQ(r.config->keys.size(), 1u);
  EXPECT_EQ(r.config->keys[0].name, "a");
  EXPECT_EQ(r.config->keys[0].secret_sha256, kHashA);
}

TEST(ConfigKeys, Sha256IsLowercased) {
  const LoadResult r =
      load(with_tail("keys:\n  - name: a\n    secret_sha256: "
                     "BA7816BF8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015AD\n"));
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errors(r));
  EXPECT_EQ(r.config->keys[0].secret_sha256, kHashA);
}

TEST(ConfigKeys, EmptyListMeansNoAuth) {
  const LoadResult r = load(with_tail("keys: []\n"));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r.config->keys.empty());
}

TEST(ConfigKeys, MustBeList) {
  EXPECT_THAT(errors(load(with_tail("keys:\n  a: 1\n"))),
              ElementsAre("test.yaml:2: keys: expected a list, got a map"));
  EXPECT_THAT(errors(load(with_tail("keys:\n  - just-a-string\n"))),
              ElementsAre("test.yaml:2: keys[0]: expected a map, got \"just-a-string\""));
}

TEST(ConfigKeys, UnknownKeyInEntry) {
  EXPECT_THAT(
      errors(load(with_tail("keys:\n  - name: a\n    secret_sha256: " + std::string(kHashA) +
                            "\n    secert_env: X\n"))),
      ElementsAre("test.yaml:4: keys[0].secert_env: unknown key \"secert_env\" (expected one of: name, "
                  "secret_env, secret_sha256, allowed_models, priority, max_priority, limits, model_limits, "
                  "default_max_tokens, budget)"));
}

TEST(ConfigKeys, NameRequiredAndValidated) {
  EXPECT_THAT(errors(load(with_tail("keys:\n  - secret_sha256: " + std::string(kHashA) + "\n"))),
              ElementsAre("test.yaml:2: keys[0].name: missing required key"));
  EXPECT_THAT(
      errors(load(with_tail("keys:\n  - name: team a\n    secret_sha256: " + std::string(kHashA) + "\n"))),
      ElementsAre(
          "test.yaml:2: keys[0].name: invalid name \"team a\" (allowed characters: A-Z a-z 0-9 _ . -)"));
}

TEST(ConfigKeys, DuplicateName) {
  const LoadResult r = load(with_tail(R"(keys:
  - name: a
    secret_env: KEY_A
  - name: a
    secret_env: KEY_B
)"),
                            {{"KEY_A", "1"}, {"KEY_B", "2"}});
  EXPECT_THAT(errors(r),
              ElementsAre("test.yaml:4: keys[1].name: duplicate key name \"a\" (also used by keys[0])"));
}

TEST(ConfigKeys, DuplicateSecret) {
  const LoadResult r = load(with_tail(R"(keys:
  - name: a
    secret_env: KEY_A
  - name: b
    secret_sha256: ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad
)"),
                            {{"KEY_A", "abc"}});
  EXPECT_THAT(errors(r), ElementsAre("test.yaml:5: keys[1].secret_sha256: same secret as keys[0] (\"a\")"));
}

TEST(ConfigKeys, ExactlyOneSecret) {
  EXPECT_THAT(
      errors(load(with_tail("keys:\n  - name: a\n"))),
      ElementsAre("test.yaml:2: keys[0]: missing secret: set exactly one of secret_env or secret_sha256"));
  EXPECT_THAT(
      errors(load(with_tail("keys:\n  - name: a\n    secret_env: K\n    secret_sha256: " +
                            std::string(kHashA) + "\n"),
                  {{"K", "x"}})),
      ElementsAre("test.yaml:4: keys[0]: secret_env and secret_sha256 are mutually exclusive; set only one"));
}

TEST(ConfigKeys, SecretEnvMustBeSet) {
  EXPECT_THAT(errors(load(with_tail("keys:\n  - name: a\n    secret_env: KEY_A\n"))),
              ElementsAre("test.yaml:3: keys[0].secret_env: environment variable KEY_A is not set or empty"));
  EXPECT_THAT(errors(load(with_tail("keys:\n  - name: a\n    secret_env: KEY_A\n"), {{"KEY_A", ""}})),
              ElementsAre("test.yaml:3: keys[0].secret_env: environment variable KEY_A is not set or empty"));
  EXPECT_THAT(
      errors(load(with_tail("keys:\n  - name: a\n    secret_env: 1KEY\n"))),
      ElementsAre("test.yaml:3: keys[0].secret_env: invalid environment variable name \"1KEY\" (expected "
                  "letters, digits and _)"));
}

TEST(ConfigKeys, Sha256MustBe64Hex) {
  // A vector, not a braced list: GCC 12 reports a false -Warray-bounds on the list's copy in some unity batches.
  const std::vector<std::string> cases{"abc", std::string(kHashA) + "0", "g" + std::string(kHashA.substr(1))};
  for (const std::string& bad : cases) {
    SCOPED_TRACE(bad);
    EXPECT_THAT(
        errors(load(with_tail("keys:\n  - name: a\n    secret_sha256: \"" + bad + "\"\n"))),
        ElementsAre("test.yaml:3: keys[0].secret_sha256: expected 64 hex characters (a SHA-256 digest)"));
  }
}

TEST(ConfigKeys, ErrorsInSeveralEntriesAllReported) {
  const LoadResult r = load(with_tail(R"(keys:
  - name: a
  - name: b
    secret_env: NOPE
)"));
  EXPECT_THAT(
      errors(r),
      ElementsAre("test.yaml:2: keys[0]: missing secret: set exactly one of secret_env or secret_sha256",
                  "test.yaml:4: keys[1].secret_env: environment variable NOPE is not set or empty"));
}

TEST(ConfigModels, RewriteAndOwner) {
  const LoadResult r = load(R"(
upstreams:
  up:
    base_url: http://h
models:
  public-name:
    upstream: up
    model: private/id
    owned_by: me
)");
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errors(r));
  const Model& m = r.config->models.at("public-name");
  EXPECT_EQ(m.name, "public-name");
  EXPECT_EQ(m.deployments.at(0).upstream_model, "private/id");
  EXPECT_EQ(m.owned_by, "me");
}

TEST(ConfigModels, UpstreamRequiredAndKnown) {
  const LoadResult r = load(R"(
upstreams:
  a:
    base_url: http://h
  b:
    base_url: http://h
models:
  x:
    model: y
  z:
    upstream: c
)");
  EXPECT_THAT(
      errors(r),
      ElementsAre("test.yaml:7: models.x.upstream: missing required key",
                  "test.yaml:10: models.z.upstream: unknown upstream \"c\" (defined upstreams: a, b)"));
}

TEST(ConfigModels, UnknownKey) {
  EXPECT_THAT(
      errors(
          load("upstreams:\n  up:\n    base_url: http://h\nmodels:\n  m:\n    upstream: up\n    owner: x\n")),
      ElementsAre(
          "test.yaml:7: models.m.owner: unknown key \"owner\" (expected one of: upstream, model, owned_by, deployments, balancer, retry, fallbacks, request_timeout, weight, hedge, failover, affinity)"));
}

TEST(ConfigModels, AtLeastOne) {
  EXPECT_THAT(errors(load("upstreams:\n  up:\n    base_url: http://h\nmodels: {}\n")),
              ElementsAre("test.yaml:4: models: must define at least one model"));
  EXPECT_THAT(errors(load("upstreams:\n  up:\n    base_url: http://h\nmodels:\n")),
              ElementsAre("test.yaml:4: models: expected a map, got null"));
  EXPECT_THAT(errors(load("upstreams:\n  up:\n    base_url: http://h\nmodels: [m]\n")),
              ElementsAre("test.yaml:4: models: expected a map, got a list"));
}

TEST(ConfigModels, EntryMustBeMap) {
  EXPECT_THAT(errors(load("upstreams:\n  up:\n    base_url: http://h\nmodels:\n  m: up\n")),
              ElementsAre("test.yaml:5: models.m: expected a map, got \"up\""));
}

TEST(ConfigModels, NameWithoutSpaces) {
  EXPECT_THAT(
      errors(load("upstreams:\n  up:\n    base_url: http://h\nmodels:\n  \"my model\":\n    upstream: up\n")),
      ElementsAre("test.yaml:5: models.my model: invalid model name \"my model\" (no spaces or control "
                  "characters)"));
}

TEST(ConfigModels, NoCascadeWhenUpstreamsMissing) {
  EXPECT_THAT(errors(load("models:\n  m:\n    upstream: up\n")),
              ElementsAre("test.yaml: upstreams: missing required key"));
}

}  // namespace
}  // namespace sluice::config
