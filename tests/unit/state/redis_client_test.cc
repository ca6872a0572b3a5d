// The Redis client against a real redis-server: pipelining, scripts (EVALSHA, NOSCRIPT → EVAL), the Lua GCRA
// matching the C++ one, timeouts, the breaker, and reconnecting after kill -9 and SIGSTOP.
#include "state/redis/client.h"

#include <gtest/gtest.h>

#include <thread>

#include "redis_server.h"
#include "run_util.h"
#include "state/lease.h"
#include "state/redis/scripts.h"
#include "state/redis_backend.h"
#include "state/state_metrics.h"

namespace sluice::state::redis {
namespace {

using testing::RedisServer;

std::shared_ptr<ClientSetup> setup_for(const RedisServer& r, std::chrono::milliseconds timeout = std::chrono::milliseconds(50)) {
  auto s = std::make_shared<ClientSetup>();
  s->connect.host = "127.0.0.1";
  s->connect.port = r.port();
  s->connect.connect_timeout = std::chrono::milliseconds(300);
  s->connect.setup = scripts().load_commands();
  s->timeout = timeout;
  count_calls(*s, make_state_metrics("redis"));
  return s;
}

using testing::run_coro;

class RedisClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::redis_available()) {
      GTEST_SKIP() << "redis-server is not installed";
    }
    ASSERT_TRUE(redis_.running());
    client_ = std::make_shared<Client>(ioc_.get_executor(), setup_for(redis_));
  }
  void TearDown() override {
    if (client_) {
      client_->close();
    }
  }
  CallResult call(std::vector<Command> cmds) {
    return run_coro<CallResult>(ioc_, [&]() -> net::awaitable<CallResult> { co_return co_await client_->call(cmds); });
  }

  RedisServer redis_;
  net::io_context ioc_;
  std::shared_ptr<Client> client_;
};

TEST_F(RedisClientTest, PipelinesCommandsAndKeepsTheirOrder) {
  CallResult r = call({{"SET", "a", "1"}, {"INCRBY", "a", "41"}, {"GET", "a"}, {"GET", "missing"}, {"NOSUCHCMD"}});
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r.replies.size(), 5u);
  EXPECT_EQ(r.replies[0].str, "OK");
  EXPECT_EQ(r.replies[1].integer, 42);
  EXPECT_EQ(r.replies[2].as_int(), 42);
  EXPECT_TRUE(r.replies[3].is_nil());
  EXPECT_TRUE(r.replies[4].is_error());  // an error reply is a value, not a failed call
  // Binary-safe arguments.
  std::string blob("a\0b\r\n", 5);
  r = call({Command{"SET", "blob", blob}, {"GET", "blob"}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.replies[1].str, blob);
}

TEST_F(RedisClientTest, ScriptsSurviveAScriptFlush) {
  const auto p = GcraParams::make(10, std::chrono::seconds(10));
  auto take = [&](std::uint64_t need, std::uint64_t want) {
    Command c = scripts().call(Script::kGcraTake, {"bucket"});
    c.arg(std::to_string(p.emission_ns / 1000.0)).arg(std::to_string(p.capacity_ns / 1000)).arg(static_cast<long long>(need)).arg(static_cast<long long>(want));
    return call({c});
  };
  const auto t0 = std::chrono::steady_clock::now();
  CallResult r = take(1, 4);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.replies[0].at(0), 4);  // granted
  EXPECT_EQ(r.replies[0].at(1), 6);  // still fits
  ASSERT_EQ(redis_.cli("SCRIPT FLUSH"), "OK");
  r = take(7, 7);  // NOSCRIPT, then EVAL: same answer as the C++ arithmetic
  ASSERT_TRUE(r.ok());
  ASSERT_FALSE(r.replies[0].is_error()) << r.replies[0].str;
  EXPECT_EQ(r.replies[0].at(0), 0);  // only 6 fit: nothing granted
  // One more unit fits a second after the first take: less the time since then (the flush took a while).
  const auto since = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0);
  EXPECT_LE(r.replies[0].at(3), 1'000'000);
  EXPECT_GE(r.replies[0].at(3), 1'000'000 - since.count() - 1000);
}

TEST_F(RedisClientTest, TimesOutOnAStoppedServerThenOpensTheBreakerAndRecovers) {
  ASSERT_TRUE(call({{"PING"}}).ok());
  redis_.pause();
  const auto t0 = std::chrono::steady_clock::now();
  CallResult r = call({{"PING"}});
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(r.error, CallError::kTimeout);
  EXPECT_LT(took, std::chrono::milliseconds(200));  // the 50 ms timeout, not the server
  // After a failure nothing waits for Redis: calls fail at once while reconnects (whose handshakes time out
  // against the stopped server) fail in the background, until the breaker opens.
  for (int i = 0; i < 30; ++i) {
    const auto t1 = std::chrono::steady_clock::now();
    r = call({{"PING"}});
    EXPECT_EQ(r.error, CallError::kUnavailable);
    EXPECT_LT(std::chrono::steady_clock::now() - t1, std::chrono::milliseconds(20));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ioc_.poll();  // let background connects fail
  }
  EXPECT_FALSE(client_->ready());
  redis_.resume();
  bool back = false;
  for (int i = 0; i < 300 && !back; ++i) {
    back = call({{"PING"}}).ok();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(back);
}

TEST_F(RedisClientTest, ReconnectsAfterKillNine) {
  ASSERT_TRUE(call({{"SET", "k", "v"}}).ok());
  redis_.kill9();
  EXPECT_FALSE(call({{"GET", "k"}}).ok());
  ASSERT_TRUE(redis_.start());
  bool back = false;
  for (int i = 0; i < 400 && !back; ++i) {
    CallResult r = call({{"GET", "k"}});
    back = r.ok();
    if (back) {
      EXPECT_TRUE(r.replies[0].is_nil());  // a fresh server (no persistence)
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(back);
}

TEST_F(RedisClientTest, AuthenticatesWithAPassword) {
  ASSERT_EQ(redis_.cli("CONFIG SET requirepass pw123"), "OK");
  client_->close();
  auto s = setup_for(redis_);
  s->connect.password = "wrong";
  client_ = std::make_shared<Client>(ioc_.get_executor(), s);
  CallResult r;
  for (int i = 0; i < 5; ++i) {
    r = call({{"PING"}});
  }
  EXPECT_FALSE(r.ok());
  client_->close();
  s = setup_for(redis_);
  s->connect.password = "pw123";
  client_ = std::make_shared<Client>(ioc_.get_executor(), s);
  EXPECT_TRUE(call({{"PING"}}).ok());
  redis_.cli("-a pw123 CONFIG SET requirepass ''");
}

}  // namespace
}  // namespace sluice::state::redis
