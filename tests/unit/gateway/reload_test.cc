// Which config changes a hot reload can apply and which need a restart.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "gateway/reload.h"

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
