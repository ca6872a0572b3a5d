// Three "replicas" (three Redis backends in one process, each with its own state thread and replica id)
// sharing key limits and budgets through a real redis-server; then Redis killed, stopped and restarted.
#include "state/redis_backend.h"

#include <gtest/gtest.h>

#include "../admission/key_policy_util.h"

#include <thread>

#include "admission/key_limits.h"
#include "cache/tiered_cache.h"
#include "routing/router.h"
#include "state/flight_lock.h"
#include "redis_server.h"
#include "run_util.h"

namespace sluice::state {
namespace {

using admission::KeyDecision;
using admission::KeyEntry;
using admission::KeyTicket;
using admission::LimitKind;
using admission::RequestCost;
using testing::RedisServer;
using testing::run_coro;

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

config::StateConfig redis_config(std::uint16_t port, config::FailMode mode = config::FailMode::kOpen) {
  config::StateConfig c;
  c.backend = config::StateBackend::kRedis;
  c.fail_mode = mode;
  c.redis.port = port;
  c.redis.key_prefix = "t";
  c.redis.timeout = std::chrono::milliseconds(50);
  c.redis.connect_timeout = std::chrono::milliseconds(300);
  c.sync_interval = std::chrono::milliseconds(20);
  c.lease_ttl = std::chrono::milliseconds(200);
  c.heartbeat = std::chrono::milliseconds(100);
  return c;
}

config::KeyPolicy policy(std::uint64_t rpm, std::uint32_t conc, double daily_usd) {
  return admission::testing::key_policy(rpm, conc, daily_usd);
}

class SharedStateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::redis_available()) {
      GTEST_SKIP() << "redis-server is not installed";
    }
    ASSERT_TRUE(redis_.running());
  }
  void make_replicas(const config::KeyPolicy& p, config::FailMode mode = config::FailMode::kOpen) {
    for (int i = 0; i < 3; ++i) {
      std::string error;
      backends_.push_back(make_redis_backend(redis_config(redis_.port(), mode), error));
      ASSERT_TRUE(backends_.back()) << error;
      keys_.push_back(std::make_unique<KeyEntry>("tenant", p, *backends_.back()));
    }
    // Every replica's heartbeat has run once at start; let them all see each other.
    wait_for([&] { return redis_backend(0).replicas() == 3; });
  }
  RedisBackend& redis_backend(std::size_t i) { return static_cast<RedisBackend&>(*backends_[i]); }
  static void wait_for(const std::function<bool()>& pred, int ms = 3000) {
    for (int i = 0; i < ms / 10 && !pred(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  // One request's admission on replica i: the fast path, then refills when needed.
  KeyDecision check(std::size_t i, KeyTicket& t, RequestCost cost = {}) {
    return run_coro<KeyDecision>(ioc_, [&]() -> net::awaitable<KeyDecision> {
      co_return co_await admission::check_key_async(*backends_[i], *keys_[i], "m", cost, t);
    });
  }

  RedisServer redis_;
  net::io_context ioc_;
  std::vector<std::shared_ptr<Backend>> backends_;
  std::vector<std::unique_ptr<KeyEntry>> keys_;
};

TEST_F(SharedStateTest, ThreeReplicasShareOneRequestLimit) {
  make_replicas(policy(30, 0, 0));  // 30 per minute: the test takes far less than the 2 s one refill needs
  int admitted = 0;
  for (int i = 0; i < 90; ++i) {
    KeyTicket t;
    admitted += check(static_cast<std::size_t>(i % 3), t).rejected == LimitKind::kNone ? 1 : 0;
  }
  EXPECT_EQ(admitted, 30);
  const std::uint64_t rt = static_cast<std::uint64_t>(redis_backend(0).metrics().round_trips->value());
  EXPECT_GT(rt, 0u);
}

TEST_F(SharedStateTest, ConcurrencyNeverExceedsTheLimitAcrossReplicas) {
  make_replicas(policy(0, 4, 0));
  std::vector<std::unique_ptr<KeyTicket>> held;
  int admitted = 0;
  for (int i = 0; i < 12; ++i) {
    auto t = std::make_unique<KeyTicket>();
    if (check(static_cast<std::size_t>(i % 3), *t).rejected == LimitKind::kNone) {
      ++admitted;
      held.push_back(std::move(t));
    }
  }
  EXPECT_EQ(admitted, 4);
  held.clear();  // all four end; their replicas give the slots back once idle (lease_ttl)
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  int again = 0;
  for (int i = 0; i < 12; ++i) {
    auto t = std::make_unique<KeyTicket>();
    if (check(2, *t).rejected == LimitKind::kNone) {  // one replica can now use every slot
      ++again;
      held.push_back(std::move(t));
    }
  }
  EXPECT_EQ(again, 4);
}

TEST_F(SharedStateTest, ABudgetStopsWithinOneRequestOfTheCap) {
  make_replicas(policy(0, 0, 1.0));
  const RequestCost cost{0, admission::to_nano_usd(0.15)};
  int admitted = 0;
  for (int i = 0; i < 30; ++i) {
    KeyTicket t;
    KeyDecision d = check(static_cast<std::size_t>(i % 3), t, cost);
    if (d.rejected == LimitKind::kNone) {
      ++admitted;
      t.settle_cost(admission::to_nano_usd(0.15), unix_now(), 0);
    } else {
      EXPECT_EQ(d.rejected, LimitKind::kBudget);
    }
  }
  // Spend stops at the cap, overshooting by less than one request: 7 × 0.15 = 1.05.
  EXPECT_EQ(admitted, 7);
  // The settled spend reaches Redis with the next sync; every replica's view shows it.
  wait_for([&] {
    auto v = run_coro<SpendView>(ioc_, [&]() -> net::awaitable<SpendView> {
      co_return co_await backends_[1]->spend_view(*keys_[1]->spend, keys_[1]->budget, unix_now());
    });
    return v.day_spent == admission::to_nano_usd(1.05);
  });
  auto v = run_coro<SpendView>(ioc_, [&]() -> net::awaitable<SpendView> {
    co_return co_await backends_[1]->spend_view(*keys_[1]->spend, keys_[1]->budget, unix_now());
  });
  EXPECT_TRUE(v.shared);
  EXPECT_EQ(v.day_spent, admission::to_nano_usd(1.05));
}

TEST_F(SharedStateTest, RedisKilledFallsBackToTheLocalShareAndRecovers) {
  make_replicas(policy(60, 0, 0));
  KeyTicket warm;
  ASSERT_EQ(check(0, warm).rejected, LimitKind::kNone);
  redis_.kill9();
  wait_for([&] { return !redis_backend(0).usable(); });
  EXPECT_FALSE(redis_backend(0).usable());
  // Every decision is still made, each fast, from this replica's share of what the bucket had left (about
  // 60 ÷ 3 = 20; the warm-up request and the slice it leased count too).
  int admitted = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 60; ++i) {
    KeyTicket t;
    admitted += check(0, t).rejected == LimitKind::kNone ? 1 : 0;
  }
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(500));
  EXPECT_NEAR(admitted, 20, 2);
  ASSERT_TRUE(redis_.start());
  wait_for([&] { return redis_backend(0).usable(); });
  EXPECT_TRUE(redis_backend(0).usable());
  EXPECT_EQ(redis_backend(0).metrics().up->value(), 1);
}

TEST_F(SharedStateTest, AStoppedRedisDelaysARequestByAtMostTheTimeout) {
  make_replicas(policy(600, 0, 0));
  KeyTicket warm;
  ASSERT_EQ(check(1, warm).rejected, LimitKind::kNone);
  redis_.pause();
  for (int i = 0; i < 40; ++i) {
    KeyTicket t;
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_EQ(check(1, t).rejected, LimitKind::kNone);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(100)) << i;  // timeout 50 ms
  }
  redis_.resume();
  wait_for([&] { return redis_backend(1).usable(); });
  EXPECT_TRUE(redis_backend(1).usable());
}

TEST_F(SharedStateTest, FailClosedRefusesWhileRedisIsAway) {
  make_replicas(policy(60, 0, 0), config::FailMode::kClosed);
  redis_.kill9();
  wait_for([&] { return !redis_backend(2).usable(); });
  KeyTicket t;
  EXPECT_EQ(check(2, t).rejected, LimitKind::kUnavailable);
}

TEST_F(SharedStateTest, AnAnswerStoredByOneReplicaIsAHitOnAnother) {
  make_replicas(policy(0, 0, 0));
  const auto ttl = std::chrono::milliseconds(60'000);
  auto lru = [] { return std::make_shared<cache::MemoryCache>(1 << 20, std::chrono::milliseconds(60'000),
                                                              std::chrono::milliseconds(0), 1); };
  cache::TieredCache a(lru(), backends_[0], ttl, std::chrono::milliseconds(0));
  cache::TieredCache b(lru(), backends_[1], ttl, std::chrono::milliseconds(0));
  auto answer = std::make_shared<cache::CachedAnswer>();
  answer->json = R"({"choices":[]})";
  answer->upstream = "up";
  const auto now = cache::CacheClock::now();
  a.put("k1", answer, now);
  wait_for([&] { return redis_.cli("EXISTS t:{c:k1}") == "1"; });
  EXPECT_FALSE(b.get("k1", now, false).answer);  // not in b's own LRU yet
  auto hit = run_coro<cache::Lookup>(ioc_, [&]() -> net::awaitable<cache::Lookup> {
    co_return co_await b.fetch("k1", cache::CacheClock::now(), false);
  });
  ASSERT_TRUE(hit.answer);
  EXPECT_EQ(hit.answer->json, answer->json);
  EXPECT_TRUE(b.get("k1", cache::CacheClock::now(), false).answer);  // now copied into b's LRU
  auto miss = run_coro<cache::Lookup>(ioc_, [&]() -> net::awaitable<cache::Lookup> {
    co_return co_await b.fetch("k2", cache::CacheClock::now(), false);
  });
  EXPECT_FALSE(miss.answer);
}

TEST_F(SharedStateTest, OneReplicaLeadsAFlightAndWakesTheOthers) {
  make_replicas(policy(0, 0, 0));
  FlightLock& a = *backends_[0]->flight_lock();
  FlightLock& b = *backends_[1]->flight_lock();
  auto role = [&](FlightLock& l, const std::string& key) {
    return run_coro<FlightLock::Role>(ioc_, [&]() -> net::awaitable<FlightLock::Role> { co_return co_await l.lead(key); });
  };
  ASSERT_EQ(role(a, "req1"), FlightLock::Role::kLeader);
  ASSERT_EQ(role(b, "req1"), FlightLock::Role::kFollower);
  // The follower sleeps until the leader announces (from another thread, as another replica would).
  std::thread leader([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    a.done("req1", true);
  });
  const auto t0 = std::chrono::steady_clock::now();
  auto w = run_coro<FlightLock::Wait>(ioc_, [&]() -> net::awaitable<FlightLock::Wait> {
    co_return co_await b.wait("req1", std::chrono::steady_clock::now() + std::chrono::seconds(5));
  });
  leader.join();
  EXPECT_NE(w, FlightLock::Wait::kTimeout);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(1000));
  EXPECT_EQ(role(b, "req1"), FlightLock::Role::kLeader);  // released: the next request leads
  b.done("req1", false);
  // Redis away: everyone is on their own.
  redis_.kill9();
  wait_for([&] { return !redis_backend(2).usable(); });
  EXPECT_EQ(role(*backends_[2]->flight_lock(), "req2"), FlightLock::Role::kAlone);
}

TEST_F(SharedStateTest, AProviderKeyLimitedOnOneReplicaIsPacedOnTheOthers) {
  make_replicas(policy(0, 0, 0));
  config::Config cfg;
  config::Upstream up;
  up.name = "ds";
  up.api_key_envs = {"DS_KEY"};
  up.api_keys = {"sk"};
  cfg.upstreams["ds"] = up;
  routing::Router ra(cfg), rb(cfg);
  auto link_a = backends_[0]->attach_pacing("ds", ra.host("ds")->keys());
  auto link_b = backends_[1]->attach_pacing("ds", rb.host("ds")->keys());
  routing::KeyPacer& pa = ra.host("ds")->keys();
  routing::KeyPacer& pb = rb.host("ds")->keys();
  const auto now = routing::KeyPacer::Clock::now();
  routing::RateSignals s;
  s.retry_after = std::chrono::milliseconds(30'000);
  pa.release(pa.pick(now).key.value(), 429, s, now);  // replica a's request met a 429
  EXPECT_TRUE(pb.has_headroom(routing::KeyPacer::Clock::now()));
  wait_for([&] { return !pb.has_headroom(routing::KeyPacer::Clock::now()); });  // within a sync or two
  const auto c = pb.pick(routing::KeyPacer::Clock::now());
  EXPECT_FALSE(c.key);
  EXPECT_GT(c.ready_at - routing::KeyPacer::Clock::now(), std::chrono::seconds(25));
  link_a.reset();  // detached: the syncs no longer touch the pacers
  link_b.reset();
}

}  // namespace
}  // namespace sluice::state
