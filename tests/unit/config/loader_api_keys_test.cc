// `api_key_env` as a list: several provider keys for one upstream.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/loader.h"
#include "loader_test_util.h"

namespace sluice::config {
namespace {

using ::testing::ElementsAre;
using testing::errors;
using testing::load;
using testing::warnings;

std::string with_keys(std::string_view keys_yaml) {
  return "upstreams:\n  up:\n    base_url: http://h\n" + std::string(keys_yaml) + "models:\n  m:\n    upstream: up\n";
}

TEST(ConfigApiKeys, ListKeepsOrderAndFirstIsTheDefault) {
  const LoadResult r = load(with_keys("    api_key_env: [KEY_A, KEY_B]\n"), {{"KEY_A", "sk-a"}, {"KEY_B", "sk-b"}});
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errors(r));
  const Upstream& up = r.config->upstreams.at("up");
  EXPECT_THAT(up.api_keys, ElementsAre("sk-a", "sk-b"));
  EXPECT_THAT(up.api_key_envs, ElementsAre("KEY_A", "KEY_B"));
  EXPECT_EQ(up.api_key, "sk-a");
  EXPECT_TRUE(up.key_pacing);
}

TEST(ConfigApiKeys, UnsetKeyInListIsLeftOutWithWarning) {
  const LoadResult r = load(with_keys("    api_key_env:\n      - KEY_A\n      - KEY_B\n"), {{"KEY_B", "sk-b"}});
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(r.config->upstreams.at("up").api_keys, ElementsAre("sk-b"));
  EXPECT_EQ(r.config->upstreams.at("up").api_key, "sk-b");
  EXPECT_THAT(warnings(r), ElementsAre("test.yaml:5: upstreams.up.api_key_env[0]: environment variable KEY_A is "
                                       "not set or empty; this key is left out"));
}

TEST(ConfigApiKeys, BadListsAreErrors) {
  EXPECT_THAT(errors(load(with_keys("    api_key_env: []\n"))),
              ElementsAre("test.yaml:4: upstreams.up.api_key_env: expected an environment variable name or a "
                          "non-empty list of them"));
  EXPECT_THAT(errors(load(with_keys("    api_key_env: [KEY_A, KEY_A]\n"), {{"KEY_A", "x"}})),
              ElementsAre("test.yaml:4: upstreams.up.api_key_env[1]: environment variable KEY_A is listed twice"));
  EXPECT_THAT(errors(load(with_keys("    api_key_env: [KEY_A, sk-123]\n"), {{"KEY_A", "x"}})),
              ElementsAre("test.yaml:4: upstreams.up.api_key_env[1]: invalid environment variable name \"sk-123\" "
                          "(expected letters, digits and _)"));
  EXPECT_THAT(errors(load(with_keys("    key_pacing: maybe\n"))),
              ElementsAre(::testing::HasSubstr("upstreams.up.key_pacing")));
}

}  // namespace
}  // namespace sluice::config
