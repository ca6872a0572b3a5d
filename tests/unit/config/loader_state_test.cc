// The `state` section (local / redis backends, leases) and key budgets.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/loader.h"
#include "loader_test_util.h"

namespace sluice::config {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::errors;
using testing::load;
using testing::with_tail;

TEST(ConfigState, DefaultsToLocal) {
  const LoadResult r = load(with_tail(""));
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errors(r));
  EXPECT_EQ(r.config->state.backend, StateBackend::kLocal);
  EXPECT_EQ(r.config->state.redis.timeout, std::chrono::milliseconds(20));
}

TEST(ConfigState, RedisSettingsParsed) {
  const LoadResult r = load(with_tail(R"(
state:
  backend: redis
  fail_mode: closed
  lease_percent: 1.5
  lease_ttl: 2s
  sync_interval: 50ms
  heartbeat: 500ms
  redis:
    address: redis.internal:6380
    key_prefix: prod-gw
    timeout: 15ms
    connect_timeout: 1s
    pool_size: 2
    username: gw
    password_env: REDIS_PW
    database: 3
    tls: {ca_file: /etc/ca.pem, server_name: redis.example}
)"),
                            {{"REDIS_PW", "s3cret"}});
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errors(r));
  const StateConfig& s = r.config->state;
  EXPECT_EQ(s.backend, StateBackend::kRedis);
  EXPECT_EQ(s.fail_mode, FailMode::kClosed);
  EXPECT_DOUBLE_EQ(s.lease_fraction, 0.015);
  EXPECT_EQ(s.lease_ttl, std::chrono::seconds(2));
  EXPECT_EQ(s.sync_interval, std::chrono::milliseconds(50));
  EXPECT_EQ(s.heartbeat, std::chrono::milliseconds(500));
  EXPECT_EQ(s.redis.host, "redis.internal");
  EXPECT_EQ(s.redis.port, 6380);
  EXPECT_EQ(s.redis.key_prefix, "prod-gw");
  EXPECT_EQ(s.redis.timeout, std::chrono::milliseconds(15));
  EXPECT_EQ(s.redis.pool_size, 2u);
  EXPECT_EQ(s.redis.username, "gw");
  EXPECT_EQ(s.redis.password, "s3cret");
  EXPECT_EQ(s.redis.database, 3u);
  EXPECT_TRUE(s.redis.tls.enabled);
  EXPECT_EQ(s.redis.tls.ca_file, "/etc/ca.pem");
  EXPECT_EQ(s.redis.tls.server_name, "redis.example");
}

TEST(ConfigState, ErrorsNameFileLineAndKey) {
  const LoadResult r = load(with_tail(R"(
state:
  backend: memcached
  fail_mode: maybe
  redis:
    address: nohost
    key_prefix: "a{b}"
    password_env: MISSING_PW
    pool_size: 0
    colour: red
)"));
  EXPECT_THAT(errors(r),
              ElementsAre(HasSubstr("test.yaml:2: state.backend: unknown backend \"memcached\""),
                          HasSubstr("test.yaml:3: state.fail_mode: unknown fail_mode \"maybe\""),
                          HasSubstr("test.yaml:9: state.redis.colour: unknown key"),
                          HasSubstr("test.yaml:5: state.redis.address: invalid address \"nohost\""),
                          HasSubstr("test.yaml:6: state.redis.key_prefix: invalid prefix"),
                          HasSubstr("test.yaml:8: state.redis.pool_size: must be between 1 and 16"),
                          HasSubstr("test.yaml:7: state.redis.password_env: environment variable MISSING_PW")));
}

TEST(ConfigState, RedisNeedsItsSection) {
  const LoadResult r = load(with_tail("state: {backend: redis}\n"));
  EXPECT_THAT(errors(r), ElementsAre(HasSubstr("state: backend redis needs a redis section")));
}

TEST(ConfigBudget, KeyBudgetsParsedAndChecked) {
  const LoadResult r = load(with_tail(R"(
keys:
  - name: a
    secret_env: KEY_A
    budget: {daily_usd: 5, monthly_usd: 100.5}
  - name: b
    secret_env: KEY_B
    budget: {daily_usd: -1}
  - name: c
    secret_env: KEY_C
    budget: {weekly_usd: 3}
)"),
                            {{"KEY_A", "x"}, {"KEY_B", "y"}, {"KEY_C", "z"}});
  EXPECT_THAT(errors(r), ElementsAre(HasSubstr("test.yaml:7: keys[1].budget.daily_usd: must be between 0 and 1e+06"),
                                     HasSubstr("test.yaml:10: keys[2].budget.weekly_usd: unknown key"),
                                     HasSubstr("test.yaml:10: keys[2].budget: a budget needs daily_usd or")));
  const LoadResult ok = load(with_tail(R"(
keys:
  - name: a
    secret_env: KEY_A
    budget: {daily_usd: 5, monthly_usd: 100.5}
)"),
                             {{"KEY_A", "x"}});
  ASSERT_TRUE(ok.ok()) << ::testing::PrintToString(errors(ok));
  EXPECT_DOUBLE_EQ(ok.config->keys[0].policy.budget.daily_usd, 5);
  EXPECT_DOUBLE_EQ(ok.config->keys[0].policy.budget.monthly_usd, 100.5);
}

}  // namespace
}  // namespace sluice::config
