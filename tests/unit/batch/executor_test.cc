// The executor against a real SQLite store, a fake LineRunner and a fake clock: every poll is driven by the
// test (io_context::run() returns once the poll, its lines and their store calls are done).
#include "batch/executor.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <boost/json.hpp>
#include <filesystem>
#include <functional>
#include <future>
#include <map>
#include <set>
#include <thread>

#include "../ledger/ledger_fixtures.h"
#include "../store/store_fixtures.h"
#include "batch/jsonl.h"
#include "batch/output_line.h"
#include "config/loader.h"
#include "ledger/ledger.h"

namespace sluice::batch {
namespace {

using store::Store;

class FakeClock : public BatchClock {
 public:
  std::int64_t now = 0;
  std::int64_t real_ms() const override { return now; }
  std::int64_t plan_ms() const override { return now; }
  std::chrono::steady_clock::time_point steady_now() const override {
    return std::chrono::steady_clock::time_point(std::chrono::milliseconds(now));
  }
};

// Answers each line with `answer(request)`; `hold` lines wait on a timer until released.
class FakeRunner : public LineRunner {
 public:
  std::function<LineResult(const LineRequest&)> answer = [](const LineRequest& r) {
    LineResult out;
    out.status = 200;
    out.body = R"({"echo":)" + r.body + "}";
    out.request_id = "rid-" + r.request_id;
    out.usage = LineUsage{10, 2, 0, 10, 0, 0.001};
    out.ledger = LineLedger{"deepseek-chat", "u", "deepseek-chat", 0.001, 1'741'003'200'000};
    return out;
  };
  bool hold = false;
  std::vector<LineRequest> seen;
  std::size_t running = 0, max_running = 0;
  std::vector<net::steady_timer*> held;

  net::awaitable<LineResult> run(const LineRequest& req) override {
    seen.push_back(req);
    max_running = std::max(max_running, ++running);
    if (hold) {
      net::steady_timer t(co_await net::this_coro::executor, std::chrono::hours(1));
      held.push_back(&t);
      co_await t.async_wait(use_tuple);
    }
    --running;
    co_return answer(req);
  }
  void release_all() {
    for (auto* t : held) {
      t->cancel();
    }
    held.clear();
  }
};

constexpr std::int64_t kExecHour = 3'600'000;

std::shared_ptr<const config::Config> test_config(std::string_view extra = "") {
  const std::string yaml = R"(
upstreams:
  u: {base_url: "http://127.0.0.1:1"}
models:
  deepseek-chat: {upstream: u}
pricing:
  deepseek-chat: {input_cache_hit: 0.07, input_cache_miss: 0.27, output: 1.10, off_peak: ["16:30-00:30"],
                  off_peak_multiplier: 0.5}
batch:
  concurrency: 3
  lease: 10s
  poll_interval: 1s
  retry_base: 1s
  retry_cap: 4s
  initial_line_time: 1s
)" + std::string(extra);
  auto r = config::load_string(yaml, "test.yaml", [](const std::string&) { return std::nullopt; });
  EXPECT_TRUE(r.ok()) << (r.errors.empty() ? "" : r.errors.front().to_string());
  return r.config;
}

class BatchExecutorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    path_ = testing::temp_db_path("exec", ::testing::UnitTest::GetInstance()->current_test_info()->name());
    auto s = store::open_sqlite_store(path_, error);
    ASSERT_TRUE(s) << error;
    std::vector<std::unique_ptr<Store>> v;
    v.push_back(std::move(s));
    threads_ = std::make_unique<store::StoreThreads>(std::move(v));
    clock_.now = 1'741'003'200'000;  // 2025-03-03 12:00 UTC, a Monday, peak
    cfg_ = test_config();
    exec_ = make_executor("replica-A");
  }

  std::unique_ptr<Executor> make_executor(std::string replica) {
    auto e = std::make_unique<Executor>(*threads_, &runner_, clock_, std::move(replica), 42);
    e->set_config(cfg_);
    return e;
  }

  // Runs `fn` on a store thread and returns its result.
  template <class Fn>
  auto on_store(Fn fn) {
    std::promise<std::invoke_result_t<Fn&, Store&>> p;
    auto f = p.get_future();
    threads_->post([&](Store& s) { p.set_value(fn(s)); });
    return f.get();
  }

  void create(const std::string& id, int lines, std::string schedule = "asap",
              std::int64_t window = 24 * kExecHour) {
    store::BatchRecord b = testing::test_batch(id, "team", lines, clock_.now / 1000, clock_.now + window);
    b.schedule = std::move(schedule);
    std::vector<InputLine> in;
    for (int i = 0; i < lines; ++i) {
      in.push_back({static_cast<std::uint32_t>(i + 1), "c" + std::to_string(i),
                    R"({"model":"deepseek-chat","n":)" + std::to_string(i) + "}"});
    }
    ASSERT_TRUE(on_store([&](Store& s) {
      std::string e;
      return s.create_batch(b, in, e);
    }));
  }

  void poll(Executor& e) {
    net::co_spawn(ioc_, e.poll_once(), net::detached);
    settle(&e);
  }
  // Runs the io_context until nothing is ready, the store has nothing queued and `e` awaits no ledger: held
  // lines stay parked.
  void settle(const Executor* e = nullptr) {
    for (;;) {
      ioc_.restart();
      if (ioc_.poll() > 0) {
        continue;
      }
      if (threads_->idle() && (e == nullptr || !e->feeding())) {
        ioc_.restart();
        if (ioc_.poll() == 0) {
          return;
        }
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    }
  }
  // Polls until the batch is final (at most `max` polls, the clock stepping `step` ms each time).
  void poll_until_final(const std::string& id, int max = 50, std::int64_t step = 1000) {
    for (int i = 0; i < max && !final(id); ++i) {
      poll(*exec_);
      clock_.now += step;
    }
  }
  store::BatchRecord batch(const std::string& id) {
    return on_store([&](Store& s) { return *s.get_batch("team", id); });
  }
  bool final(const std::string& id) {
    auto st = batch(id).status;
    return st == "completed" || st == "expired" || st == "cancelled" || st == "failed";
  }
  std::string content(const std::string& file_id) {
    return on_store([&](Store& s) { return s.file_content("team", file_id).value_or(""); });
  }

  std::string path_;  // the store's file
  net::io_context ioc_;
  FakeClock clock_;
  FakeRunner runner_;
  std::shared_ptr<const config::Config> cfg_;
  std::unique_ptr<store::StoreThreads> threads_;
  std::unique_ptr<Executor> exec_;
};

std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> out;
  std::size_t at = 0;
  while (at < s.size()) {
    auto nl = s.find('\n', at);
    out.push_back(s.substr(at, nl - at));
    at = nl + 1;
  }
  return out;
}

TEST_F(BatchExecutorTest, RunsEveryLineOnceAndCompletes) {
  create("batch_ok", 7);
  poll_until_final("batch_ok");
  auto b = batch("batch_ok");
  EXPECT_EQ(b.status, "completed");
  EXPECT_EQ(b.completed, 7);
  EXPECT_EQ(b.failed, 0);
  EXPECT_GT(b.at.finalizing, 0);
  EXPECT_EQ(b.error_file_id, "");
  auto out = lines_of(content(b.output_file_id));
  ASSERT_EQ(out.size(), 7u);
  for (int i = 0; i < 7; ++i) {  // in input order, one per custom_id, with the runner's answer
    EXPECT_EQ(
        out[static_cast<std::size_t>(i)],
        response_line("batch_ok", i, "c" + std::to_string(i), 200, "rid-" + request_line_id("batch_ok", i),
                      R"({"echo":{"model":"deepseek-chat","n":)" + std::to_string(i) + "}}"));
  }
  // Tokens from the runner, priced at the moment each line finished (noon: peak, full price).
  auto usage = on_store([&](Store& s) { return s.batch_usage("batch_ok"); });
  EXPECT_EQ(usage.prompt_tokens, 70);
  EXPECT_EQ(usage.completion_tokens, 14);
  EXPECT_NEAR(usage.cost_usd, 7 * (10 * 0.27 + 2 * 1.10) / 1e6, 1e-12);
  EXPECT_DOUBLE_EQ(usage.full_cost_usd, usage.cost_usd);
  EXPECT_EQ(runner_.seen.size(), 7u);
  EXPECT_EQ(runner_.seen[0].key, "team");
  EXPECT_EQ(runner_.seen[0].endpoint, "/v1/chat/completions");
  EXPECT_EQ(runner_.seen[0].priority, config::Priority::kBatch);
  EXPECT_EQ(exec_->stats().succeeded, 7u);
}

TEST_F(BatchExecutorTest, ConcurrencyCapPerBatch) {
  create("batch_cap", 10);
  runner_.hold = true;
  poll(*exec_);
  ASSERT_EQ(runner_.held.size(), 3u);  // the cap (3), the rest stay in the store
  poll(*exec_);
  EXPECT_EQ(runner_.held.size(), 3u);  // still full: nothing more claimed
  runner_.hold = false;
  runner_.release_all();
  poll_until_final("batch_cap");
  EXPECT_EQ(runner_.max_running, 3u);
  EXPECT_EQ(batch("batch_cap").completed, 10);
}

TEST_F(BatchExecutorTest, RetryableFailuresAreRetriedWithBackoffUntilTheyPass) {
  create("batch_retry", 2);
  std::map<std::string, int> calls;
  runner_.answer = [&](const LineRequest& r) {
    LineResult out;
    if (++calls[r.request_id] <= 2) {
      out.status = 503;
      out.retryable = true;
      out.retry_after = std::chrono::milliseconds(1500);
      return out;
    }
    out.status = 200;
    out.body = "{}";
    return out;
  };
  poll(*exec_);
  EXPECT_EQ(runner_.seen.size(), 2u);
  poll(*exec_);  // same instant: the lines wait out their backoff (at least the answer's Retry-After)
  EXPECT_EQ(runner_.seen.size(), 2u);
  poll_until_final("batch_retry", 50, 500);
  auto b = batch("batch_retry");
  EXPECT_EQ(b.status, "completed");
  EXPECT_EQ(b.completed, 2);
  EXPECT_EQ(runner_.seen.size(), 6u);
  EXPECT_EQ(exec_->stats().retried, 4u);
}

TEST_F(BatchExecutorTest, FinalErrorsGoToTheErrorFile) {
  create("batch_err", 3);
  runner_.answer = [](const LineRequest& r) {
    LineResult out;
    if (r.request_id.ends_with("_1")) {
      out.status = 400;
      out.body = R"({"error":{"message":"bad request","type":"invalid_request_error"}})";
    } else if (r.request_id.ends_with("_2")) {
      out.status = 0;  // no HTTP answer, and not retryable
      out.body = R"({"error":{"message":"gave up"}})";
    } else {
      out.status = 200;
      out.body = "{}";
    }
    return out;
  };
  poll_until_final("batch_err");
  auto b = batch("batch_err");
  EXPECT_EQ(b.status, "completed");
  EXPECT_EQ(b.completed, 1);
  EXPECT_EQ(b.failed, 2);
  auto errors = lines_of(content(b.error_file_id));
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_NE(errors[0].find(R"("custom_id":"c1","response":{"status_code":400)"), std::string::npos)
      << errors[0];
  EXPECT_EQ(errors[1], error_line("batch_err", 2, "c2", "request_failed", "gave up"));
}

TEST_F(BatchExecutorTest, OffPeakWaitsForTheCheapWindow) {
  create("batch_night", 4, "off_peak");
  poll(*exec_);
  EXPECT_TRUE(runner_.seen.empty());  // noon, peak; plenty of time before tomorrow noon
  const Plan* plan = exec_->last_plan("batch_night");
  ASSERT_NE(plan, nullptr);
  EXPECT_FALSE(plan->run_now);
  EXPECT_EQ(plan->start_ms, 1'741'003'200'000 + 4 * kExecHour + kExecHour / 2);  // 16:30
  clock_.now += 4 * kExecHour + kExecHour / 2;
  poll_until_final("batch_night");
  EXPECT_EQ(batch("batch_night").completed, 4);
  auto usage = on_store([&](Store& s) { return s.batch_usage("batch_night"); });
  EXPECT_NEAR(usage.cost_usd, usage.full_cost_usd / 2, 1e-12);  // run in the discount window
  EXPECT_GT(usage.cost_usd, 0);
}

TEST_F(BatchExecutorTest, OffPeakRunsAtPeakWhenTheDeadlineNeedsIt) {
  // Two hours, all at peak: waiting for 16:30 would miss the deadline.
  create("batch_soon", 4, "off_peak", 2 * kExecHour);
  poll(*exec_);
  EXPECT_EQ(runner_.seen.size(), 3u);
}

TEST_F(BatchExecutorTest, ExpiryWritesBatchExpiredErrors) {
  create("batch_exp", 3, "asap", 10'000);
  runner_.answer = [](const LineRequest&) {
    LineResult out;
    out.status = 429;
    out.retryable = true;
    return out;
  };
  poll_until_final("batch_exp", 30, 1000);
  auto b = batch("batch_exp");
  EXPECT_EQ(b.status, "expired");
  EXPECT_GT(b.at.expired, 0);
  EXPECT_EQ(b.failed, 3);
  EXPECT_EQ(b.output_file_id, "");
  auto errors = lines_of(content(b.error_file_id));
  ASSERT_EQ(errors.size(), 3u);
  EXPECT_NE(errors[0].find(R"("code":"batch_expired")"), std::string::npos);
  // Every line ran with the batch's deadline.
  EXPECT_EQ(runner_.seen[0].deadline,
            std::chrono::steady_clock::time_point(std::chrono::milliseconds(b.deadline_ms)));
}

TEST_F(BatchExecutorTest, CancelLetsRunningLinesFinishAndSkipsTheRest) {
  create("batch_cancel", 6);
  runner_.hold = true;
  poll(*exec_);
  ASSERT_EQ(runner_.held.size(), 3u);
  ASSERT_TRUE(on_store([&](Store& s) { return s.request_cancel("team", "batch_cancel", 1).has_value(); }));
  poll(*exec_);
  EXPECT_EQ(batch("batch_cancel").status, "cancelling");  // three lines still running
  runner_.hold = false;
  runner_.release_all();
  poll_until_final("batch_cancel");
  auto b = batch("batch_cancel");
  EXPECT_EQ(b.status, "cancelled");
  EXPECT_EQ(b.completed, 3);
  EXPECT_EQ(b.failed, 3);
  EXPECT_EQ(runner_.seen.size(), 3u);
  auto errors = lines_of(content(b.error_file_id));
  ASSERT_EQ(errors.size(), 3u);
  EXPECT_NE(errors[0].find(R"("code":"batch_cancelled")"), std::string::npos);
}

TEST_F(BatchExecutorTest, ALineWhoseLeaseExpiredIsRunElsewhereAndWrittenOnce) {
  create("batch_two", 1);
  runner_.hold = true;
  poll(*exec_);  // A claims the line and hangs (a stalled replica)
  ASSERT_EQ(runner_.held.size(), 1u);
  clock_.now += 11'000;  // past A's lease (10 s); A never renewed it
  auto b_exec = make_executor("replica-B");
  runner_.hold = false;
  poll(*b_exec);  // B takes the line over and writes its result
  EXPECT_EQ(b_exec->stats().succeeded, 1u);
  runner_.release_all();  // A's answer arrives late
  settle();
  EXPECT_EQ(exec_->stats().duplicates, 1u);
  poll_until_final("batch_two");
  auto out = lines_of(content(batch("batch_two").output_file_id));
  EXPECT_EQ(out.size(), 1u);  // one output line per custom_id
}

TEST_F(BatchExecutorTest, LeasesAreRenewedWhileLinesRun) {
  create("batch_long", 1);
  runner_.hold = true;
  poll(*exec_);
  for (int i = 0; i < 5; ++i) {  // 20 s of polls: twice the lease
    clock_.now += 4'000;
    poll(*exec_);
  }
  auto other = make_executor("replica-B");
  poll(*other);
  EXPECT_EQ(runner_.seen.size(), 1u);  // B found nothing to claim
  runner_.hold = false;
  runner_.release_all();
  poll_until_final("batch_long");
  EXPECT_EQ(batch("batch_long").completed, 1);
}

TEST_F(BatchExecutorTest, WithoutARunnerBatchesStillExpireAndCancel) {
  Executor idle(*threads_, nullptr, clock_, "idle", 1);
  idle.set_config(cfg_);
  create("batch_idle", 2, "asap", 5'000);
  poll(idle);
  EXPECT_EQ(batch("batch_idle").status, "in_progress");
  clock_.now += 6'000;
  poll(idle);
  EXPECT_EQ(batch("batch_idle").status, "expired");
  EXPECT_TRUE(runner_.seen.empty());
}

TEST_F(BatchExecutorTest, ThroughputIsMeasuredFromBusyTime) {
  // Lines finish at once here; polling every 100 ms, each poll finishes the cap (3): 3 lines per 0.3 slot-s.
  RateBoard board;
  exec_->set_rate_board(&board);
  create("batch_learn", 300, "asap");
  for (int i = 0; i < 101; ++i) {
    poll(*exec_);
    clock_.now += 100;
  }
  ASSERT_TRUE(board.get("deepseek-chat"));
  EXPECT_NEAR(*board.get("deepseek-chat"), 10.0, 0.5);  // lines per second per slot (prior: 1)
}

// The ledger feed (docs/batch.md "Exactly once in the ledger") with a real SQLite ledger.
class BatchLedgerFeedTest : public BatchExecutorTest {
 protected:
  void SetUp() override {
    BatchExecutorTest::SetUp();
    config::LedgerConfig cfg;
    cfg.path =
        testing::temp_db_path("exec-ledger", ::testing::UnitTest::GetInstance()->current_test_info()->name());
    cfg.flush_interval = std::chrono::milliseconds(10);
    cfg.busy_timeout = std::chrono::milliseconds(20);
    std::string error;
    ledger_ = ledger::Ledger::open(cfg, error);
    ASSERT_TRUE(ledger_) << error;
    ledger_path_ = cfg.path;
    exec_->set_ledger(ledger_);
  }
  boost::json::object ledger_totals() {
    std::promise<std::string> p;
    ledger_->query({}, [&p](std::string s) { p.set_value(std::move(s)); });
    return boost::json::parse(p.get_future().get()).as_object()["totals"].as_object();
  }
  std::int64_t ledger_requests() { return ledger_totals()["requests"].as_int64(); }
  // Results not yet in the ledger (a round of limit 0 takes none).
  std::int64_t pending() {
    return on_store([&](Store& s) { return s.unledgered_lines(clock_.now, 0, 0).pending; });
  }
  static void sql(const std::string& path, const char* statement) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 1000);
    EXPECT_EQ(sqlite3_exec(db, statement, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    sqlite3_close(db);
  }

  std::shared_ptr<ledger::Ledger> ledger_;
  std::string ledger_path_;
};

TEST_F(BatchLedgerFeedTest, EachResultThatReachedAnUpstreamIsCountedOnce) {
  auto answer = runner_.answer;
  runner_.answer = [answer](const LineRequest& r) {
    LineResult out = answer(r);
    if (r.request_id.ends_with("_6")) {  // refused before any upstream: no ledger row
      out = LineResult{};
      out.status = 400;
      out.body = R"({"error":{"message":"bad"}})";
    }
    return out;
  };
  create("batch_led", 7);
  poll_until_final("batch_led");
  poll(*exec_);  // results written after the last poll's feed
  auto t = ledger_totals();
  EXPECT_EQ(t["requests"], 6);
  EXPECT_EQ(t["upstream_requests"], 6);
  EXPECT_EQ(t["prompt_tokens"], 60);
  EXPECT_EQ(t["completion_tokens"], 12);
  EXPECT_NEAR(t["cost_usd"].to_number<double>(), 0.006, 1e-9);  // the runner's price, not the plan clock's
  EXPECT_EQ(pending(), 0);
  EXPECT_EQ(exec_->stats().ledgered, 6u);
  ledger::UsageQuery q;  // under the batch owner's key
  q.only_key = "team";
  std::promise<std::string> p;
  ledger_->query(q, [&p](std::string s) { p.set_value(std::move(s)); });
  EXPECT_EQ(boost::json::parse(p.get_future().get()).as_object()["totals"].as_object()["requests"], 6);
  for (int i = 0; i < 3; ++i) {  // later polls add nothing
    clock_.now += 20'000;
    poll(*exec_);
  }
  EXPECT_EQ(ledger_requests(), 6);
}

TEST_F(BatchLedgerFeedTest, ACrashBetweenTheLedgerAndTheMarkFeedsAgainAndCountsOnce) {
  create("batch_crash", 5);
  poll_until_final("batch_crash");
  poll(*exec_);
  ASSERT_EQ(ledger_requests(), 5);
  ASSERT_EQ(pending(), 0);
  // What a process killed after the ledger's commit and before the store's mark leaves behind.
  sql(path_, "UPDATE batch_results SET ledgered = 0, ledger_until = 0");
  ASSERT_EQ(pending(), 5);
  auto restarted = make_executor("replica-B");
  restarted->set_ledger(ledger_);
  poll(*restarted);  // its first poll catches up
  EXPECT_EQ(restarted->stats().ledgered, 5u);
  EXPECT_EQ(pending(), 0);
  EXPECT_EQ(ledger_requests(), 5);
}

TEST_F(BatchLedgerFeedTest, ALedgerThatCannotWriteLeavesTheLinesForALaterRound) {
  testing::SqliteWriteLock other(ledger_path_);
  create("batch_locked", 4);
  poll_until_final("batch_locked");
  poll(*exec_);
  EXPECT_EQ(ledger_requests(), 0);
  EXPECT_EQ(pending(), 4);  // not marked: the ledger said it wrote nothing
  EXPECT_EQ(exec_->stats().ledgered, 0u);
  other.release();
  clock_.now += 11'000;  // the failed round's hold (a lease, 10 s) ends
  poll(*exec_);
  EXPECT_EQ(ledger_requests(), 4);
  EXPECT_EQ(pending(), 0);
}

TEST_F(BatchLedgerFeedTest, WithoutALedgerNothingIsFedUntilOneIsSet) {
  exec_->set_ledger(nullptr);  // ledger.enabled: false
  create("batch_noledger", 3);
  poll_until_final("batch_noledger");
  poll(*exec_);
  EXPECT_EQ(pending(), 3);  // kept, not marked
  exec_->set_ledger(ledger_);
  poll(*exec_);
  EXPECT_EQ(ledger_requests(), 3);
  EXPECT_EQ(pending(), 0);
}

}  // namespace
}  // namespace sluice::batch
