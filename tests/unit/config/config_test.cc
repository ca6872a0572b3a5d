#include "config/config.h"

#include <gtest/gtest.h>

#include "config/loader.h"
#include "loader_test_util.h"

namespace sluice::config {
namespace {

using testing::load;

TEST(ConfigDiagnostic, ToStringFormats) {
  EXPECT_EQ((Diagnostic{"a.yaml", 3, "server.body_timeout", "must be greater than 0"}.to_string()),
            "a.yaml:3: server.body_timeout: must be greater than 0");
  EXPECT_EQ((Diagnostic{"a.yaml", 0, "upstreams", "missing required key"}.to_string()),
            "a.yaml: upstreams: missing required key");
  EXPECT_EQ((Diagnostic{"a.yaml", 7, "", "bad syntax"}.to_string()), "a.yaml:7: bad syntax");
  EXPECT_EQ((Diagnostic{"a.yaml", 0, "", "config is empty"}.to_string()), "a.yaml: config is empty");
}

TEST(ConfigFindModel, FindsByPublicName) {
  const LoadResult r = load(testing::kMinimalTail);
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(testing::errors(r));
  const Model* m = r.config->find_model("m");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->name, "m");
  EXPECT_EQ(m->deployments.at(0).upstream, "up");
  EXPECT_EQ(r.config->find_model("nope"), nullptr);
  EXPECT_EQ(r.config->find_model(""), nullptr);
}

TEST(ConfigEmbeddedDefault, LoadsWithKey) {
  const LoadResult r = load_string(embedded_default_yaml(), "<embedded>",
                                   testing::fake_env({{"DEEPSEEK_API_KEY", "sk-test"}}));
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(testing::errors(r));
  EXPECT_TRUE(r.warnings.empty());
  const Config& c = *r.config;
  EXPECT_EQ(c.source, "<embedded>");
  EXPECT_EQ(c.listen.host, "127.0.0.1");
  EXPECT_EQ(c.listen.port, 8080);
  EXPECT_TRUE(c.keys.empty());
  ASSERT_EQ(c.upstreams.size(), 1u);
  const Upstream& up = c.upstreams.at("deepseek");
  EXPECT_EQ(up.scheme, "https");
  EXPECT_EQ(up.host, "api.deepseek.com");
  EXPECT_EQ(up.port, 443);
  EXPECT_EQ(up.base_path, "");
  EXPECT_EQ(up.api_key_env, "DEEPSEEK_API_KEY");
  EXPECT_EQ(up.api_key, "sk-test");
  ASSERT_EQ(c.models.size(), 2u);
  for (const char* name : {"deepseek-chat", "deepseek-reasoner"}) {
    const Model* m = c.find_model(name);
    ASSERT_NE(m, nullptr) << name;
    EXPECT_EQ(m->deployments.at(0).upstream, "deepseek");
    EXPECT_EQ(m->deployments.at(0).upstream_model, name);
    EXPECT_EQ(m->owned_by, "deepseek");
  }
}

TEST(ConfigEmbeddedDefault, MissingKeyIsOneWarning) {
  const LoadResult r = load_string(embedded_default_yaml(), "<embedded>", testing::fake_env({}));
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(testing::errors(r));
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_EQ(r.warnings[0].path, "upstreams.deepseek.api_key_env");
  EXPECT_GT(r.warnings[0].line, 0);
  EXPECT_NE(r.warnings[0].message.find("DEEPSEEK_API_KEY"), std::string::npos);
  EXPECT_EQ(r.config->upstreams.at("deepseek").api_key, "");
}

TEST(ConfigEmbeddedDefault, StartsWithExplanatoryComment) {
  EXPECT_EQ(embedded_default_yaml().substr(0, 2), "# ");
}

}  // namespace
}  // namespace sluice::config
