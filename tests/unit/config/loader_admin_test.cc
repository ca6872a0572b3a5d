// The `admin` section.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/sha256.h"
#include "config/loader.h"
#include "loader_test_util.h"

namespace sluice::config {
namespace {

using ::testing::ElementsAre;
using testing::errors;
using testing::kMinimalTail;
using testing::load;
using testing::warnings;
using testing::with_tail;

TEST(ConfigLoaderAdmin, AbsentMeansNoAdmin) {
  const LoadResult r = load(kMinimalTail);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r.config->admin.enabled());
}

TEST(ConfigLoaderAdmin, ListenerAndKey) {
  const LoadResult r = load(with_tail("admin:\n  listen: 127.0.0.1:9901\n  key_env: ADMIN_KEY\n"),
                            {{"ADMIN_KEY", "0123456789abcdef-secret"}});
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errors(r));
  const AdminConfig& a = r.config->admin;
  ASSERT_TRUE(a.listen);
  EXPECT_EQ(a.listen->host, "127.0.0.1");
  EXPECT_EQ(a.listen->port, 9901);
  EXPECT_EQ(a.key_env, "ADMIN_KEY");
  EXPECT_EQ(a.key_sha256, sha256_hex("0123456789abcdef-secret"));
  EXPECT_TRUE(a.enabled());
  EXPECT_TRUE(r.warnings.empty());
}

TEST(ConfigLoaderAdmin, BadValuesAreRejectedWithLineAndPath) {
  EXPECT_THAT(errors(load(with_tail("admin:\n  listen: nonsense\n"))),
              ElementsAre("test.yaml:2: admin.listen: invalid address \"nonsense\": expected host:port or "
                          "[ipv6]:port with port 0-65535"));
  EXPECT_THAT(errors(load(with_tail("admin:\n  key_env: MISSING\n"))),
              ElementsAre("test.yaml:2: admin.key_env: environment variable MISSING is not set or empty"));
  EXPECT_THAT(errors(load(with_tail("admin:\n  key_env: SHORT\n"), {{"SHORT", "abc"}})),
              ElementsAre("test.yaml:2: admin.key_env: admin key in SHORT is too short (at least 16 characters)"));
  EXPECT_THAT(errors(load(with_tail("admin:\n  lisen: 127.0.0.1:1\n"))),
              ElementsAre(::testing::HasSubstr("admin.lisen")));
}

TEST(ConfigLoaderAdmin, PublicListenerWithoutKeyWarns) {
  const LoadResult r = load(with_tail("admin:\n  listen: 0.0.0.0:9901\n"));
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(warnings(r), ElementsAre(::testing::HasSubstr("admin.listen: admin listener on a non-loopback")));
}

TEST(ConfigLoaderAdmin, MetricsListenerParsedAndChecked) {
  const LoadResult r = load(with_tail("metrics:\n  listen: 127.0.0.1:9464\n"));
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errors(r));
  ASSERT_TRUE(r.config->metrics.listen);
  EXPECT_EQ(r.config->metrics.listen->port, 9464);
  EXPECT_THAT(errors(load(with_tail("metrics:\n  listen: nowhere\n"))),
              ElementsAre("test.yaml:2: metrics.listen: invalid address \"nowhere\": expected host:port or "
                          "[ipv6]:port with port 0-65535"));
  EXPECT_THAT(errors(load(with_tail("metrics:\n  path: /m\n"))), ElementsAre(::testing::HasSubstr("metrics.path")));
}

// /metrics shows every key's spend: open on the main listener only when there is nothing to hide.
TEST(ConfigLoaderAdmin, MetricsOpenOnMainOnlyWithoutAdminKeysOrScrapePort) {
  EXPECT_TRUE(load(kMinimalTail).config->metrics_open_on_main());
  EXPECT_FALSE(load(with_tail("metrics:\n  listen: 127.0.0.1:0\n")).config->metrics_open_on_main());
  EXPECT_FALSE(load(with_tail("admin:\n  listen: 127.0.0.1:0\n")).config->metrics_open_on_main());
  const LoadResult keyed = load(with_tail("admin:\n  key_env: ADMIN_KEY\n"), {{"ADMIN_KEY", "0123456789abcdef-x"}});
  EXPECT_FALSE(keyed.config->metrics_open_on_main());
}

}  // namespace
}  // namespace sluice::config
