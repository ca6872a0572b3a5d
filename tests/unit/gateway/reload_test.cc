// Which config changes a hot reload can apply and which need a restart.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "gateway/reload.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace sluice::gateway {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

TEST(GatewayReload, RoutingChangesNeedNoRestart) {
  config::Config a;
  config::Config b = a;
  b.models["new"] = config::Model{};
  b.log_level = "debug";
  b.access_log = "off";
  b.limits.max_response_bytes = 1;  // read per request
  EXPECT_THAT(settings_requiring_restart(a, b), IsEmpty());
}

TEST(GatewayReload, ListenerSettingsAreReported) {
  config::Config a;
  config::Config b = a;
  b.listen.port = 9999;
  b.workers = 7;
  b.limits.max_body_bytes = 1;
  b.admin.listen = config::Endpoint{"127.0.0.1", 9901};
  EXPECT_THAT(settings_requiring_restart(a, b),
              ElementsAre("listen: 127.0.0.1:8080 -> 127.0.0.1:9999 (requires restart)",
                          "workers: 0 -> 7 (requires restart)",
                          "admin.listen: (none) -> 127.0.0.1:9901 (requires restart)",
                          HasSubstr("server.max_body_bytes")));
}

}  // namespace
}  // namespace sluice::gateway

namespace sluice::gateway {
namespace {

class RuntimeReload : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = std::filesystem::temp_directory_path() / ("sluice-reload-test-" + std::to_string(::getpid()) + ".yaml");
    write("m1");
  }
  void TearDown() override { std::filesystem::remove(path_); }
  void write(const std::string& model) {
    std::ofstream(path_) << "access_log: \"off\"\nupstreams:\n  u:\n    base_url: http://127.0.0.1:9\nmodels:\n  "
                         << model << ":\n    upstream: u\n";
  }
  std::unique_ptr<Runtime> make() {
    auto env = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
    auto loaded = config::load_file(path_.string(), env);
    EXPECT_TRUE(loaded.ok());
    std::string error;
    std::shared_ptr<GatewayState> st = make_gateway_state(loaded.config, error);
    return std::make_unique<Runtime>(path_.string(), env, st);
  }
  std::filesystem::path path_;
};

TEST_F(RuntimeReload, InvalidFileKeepsTheGenerationValidOneReplacesIt) {
  auto rt = make();
  auto first = rt->current();
  first->router->host("u")->set_drained(true);
  std::ofstream(path_) << "models: [\n";
  ReloadOutcome bad = rt->reload("test");
  EXPECT_FALSE(bad.ok);
  ASSERT_FALSE(bad.errors.empty());
  EXPECT_THAT(bad.errors[0], HasSubstr(path_.string() + ":"));
  EXPECT_EQ(rt->current(), first);
  EXPECT_EQ(rt->generation(), 1u);
  EXPECT_EQ(rt->reloads_failed(), 1u);

  write("m2");
  ReloadOutcome ok = rt->reload("test");
  ASSERT_TRUE(ok.ok) << ::testing::PrintToString(ok.errors);
  EXPECT_EQ(ok.generation, 2u);
  auto second = rt->current();
  EXPECT_NE(second, first);
  EXPECT_NE(second->config->find_model("m2"), nullptr);
  EXPECT_EQ(second->config->find_model("m1"), nullptr);
  EXPECT_TRUE(second->router->host("u")->drained()) << "health carried over to the new router";
  EXPECT_NE(first->config->find_model("m1"), nullptr) << "a pinned old generation stays intact";
}

TEST_F(RuntimeReload, GenerationHooksFollowTheCurrentState) {
  auto rt = make();
  std::vector<std::string> events;
  rt->add_generation_hook([&](GatewayState& st) {
    std::string model = st.config->models.begin()->first;
    events.push_back("start " + model);
    return [&events, model] { events.push_back("stop " + model); };
  });
  write("m2");
  ASSERT_TRUE(rt->reload("test").ok);
  std::ofstream(path_) << "nonsense: [\n";
  EXPECT_FALSE(rt->reload("test").ok);  // a failed reload leaves the hooks alone
  rt->stop();
  EXPECT_THAT(events, ElementsAre("start m1", "stop m1", "start m2", "stop m2"));
}

}  // namespace
}  // namespace sluice::gateway
