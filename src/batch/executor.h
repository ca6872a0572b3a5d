#pragma once
// The batch executor of one replica. Every poll it reads the active batches from the store and, per batch:
//   - cancelling, expired, or nothing left to run → finalizes it (output and error files, final status) once
//   no
//     line is running anywhere (no live lease);
//   - otherwise re-plans (schedule.h) with the lines still open and the model's throughput estimate, and
//   while
//     the plan says "now", claims lines under leases up to the per-batch concurrency cap and runs each
//     through the LineRunner at the `batch` class. A retryable failure releases the line with a backoff (full
//     jitter, at least the answer's Retry-After) until the completion window ends; a final answer is written
//     once.
// Leases of running lines are renewed every lease/3. Each poll also feeds the usage ledger the results it
// does not have yet (at most kLedgerFeedLimit): the ledger applies each line's id once, then the results are
// marked (docs/batch.md "Exactly once in the ledger"). Runs on one io_context (its own thread in production);
// all store work goes through StoreThreads.
#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>

#include "batch/clock.h"
#include "batch/line_runner.h"
#include "batch/schedule.h"
#include "config/config.h"
#include "ledger/ledger.h"
#include "store/store_threads.h"

namespace sluice::batch {

struct ExecutorStats {
  std::uint64_t succeeded = 0, failed = 0, retried = 0, duplicates = 0, finalized = 0;
  std::uint64_t ledgered = 0;  // results fed to the ledger and marked
};

// Results fed to the ledger per poll.
inline constexpr std::size_t kLedgerFeedLimit = 500;

class Executor {
 public:
  // `runner` may be null until one is set: batches are then finalized (cancel, expiry) but no line runs.
  Executor(store::StoreThreads& store, LineRunner* runner, const BatchClock& clock, std::string replica,
           std::uint64_t seed);
  void set_runner(std::shared_ptr<LineRunner> runner) { runner_ = std::move(runner); }
  // Where throughput estimates are published (for the API's estimates); optional.
  void set_rate_board(RateBoard* board) { board_ = board; }

  // Pricing, models and batch settings; call on the executor's io_context.
  void set_config(std::shared_ptr<const config::Config> cfg) { cfg_ = std::move(cfg); }
  // The usage ledger each poll feeds finished lines into (null: ledger disabled, nothing is fed or marked).
  // Call on the executor's io_context.
  void set_ledger(std::shared_ptr<ledger::Ledger> ledger) { ledger_ = std::move(ledger); }

  // One pass over the active batches (the loop's body; tests drive it directly).
  net::awaitable<void> poll_once();
  // Polls every batch.poll_interval until stop(); spawn it on the executor's io_context.
  net::awaitable<void> run_loop();
  // Stops claiming new lines and ends run_loop; lines in flight finish (in_flight() tells how many).
  void stop();

  std::size_t in_flight() const { return in_flight_; }
  // A ledger feed round is under way (tests wait for it: the ledger's thread is not the store's).
  bool feeding() const { return feeding_; }
  const ExecutorStats& stats() const { return stats_; }
  // The last plan of a batch this replica looked at (tests, the estimate), null when none.
  const Plan* last_plan(const std::string& batch_id) const;
  const std::string& replica() const { return replica_; }

 private:
  struct Running {
    std::set<std::int64_t> lines;  // idx of lines in flight here
    std::size_t finished = 0;      // final results since the last poll
    std::int64_t last_poll_real_ms = 0;
    bool was_running = false;  // the previous poll ran lines (its interval counts as busy time)
    Plan plan;
  };

  net::awaitable<void> poll_batch(const store::BatchRecord& b);
  net::awaitable<bool> maybe_finalize(const store::BatchRecord& b, const store::LineCounts& counts);
  net::awaitable<void> finalize(const store::BatchRecord& b, std::string status);
  net::awaitable<void> run_line(store::BatchRecord b, store::LineClaim line);
  net::awaitable<void> renew_leases();
  net::awaitable<void> feed_ledger();
  void account(const store::BatchRecord& b, Running& r, std::int64_t now_real);
  Plan plan_for(const store::BatchRecord& b, const store::LineCounts& c);
  std::int64_t backoff_ms(std::int32_t attempts, std::chrono::milliseconds retry_after);
  const config::BatchConfig& settings() const { return cfg_->batch; }

  store::StoreThreads& store_;
  std::shared_ptr<LineRunner> runner_;
  const BatchClock& clock_;
  std::string replica_;
  std::mt19937_64 rng_;
  std::shared_ptr<const config::Config> cfg_;
  std::shared_ptr<ledger::Ledger> ledger_;
  bool feeding_ = false;
  std::map<std::string, Running> running_;   // by batch id
  std::map<std::string, Throughput> rates_;  // by model
  RateBoard* board_ = nullptr;
  std::size_t in_flight_ = 0;
  std::int64_t renewed_real_ms_ = 0;
  bool stopping_ = false;
  net::steady_timer* sleep_ = nullptr;  // the loop's timer while it sleeps
  ExecutorStats stats_;
};

// The price table entry of a public model: its first deployment's upstream model id; null without one.
const config::Price* price_for_model(const config::Config& cfg, std::string_view model);

}  // namespace sluice::batch
