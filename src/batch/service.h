#pragma once
// The Batch API's process-wide part: the store (on its own threads), the executor (on its own io_context
// thread), the clocks and the current config. Lives across config reloads; the routes (api.h) and the
// executor share it.
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "batch/clock.h"
#include "batch/executor.h"
#include "batch/line_runner.h"
#include "batch/schedule.h"
#include "config/config.h"
#include "ledger/ledger.h"
#include "store/store_threads.h"

namespace sluice::batch {

class BatchService {
 public:
  // Opens the configured store (creating the SQLite file or the PostgreSQL schema) and starts the executor.
  // Null + error when the store cannot be opened.
  static std::shared_ptr<BatchService> start(std::shared_ptr<const config::Config> cfg, std::string& error);
  ~BatchService();
  BatchService(const BatchService&) = delete;
  BatchService& operator=(const BatchService&) = delete;

  // A reload: pricing, models and batch limits take effect on the next poll (the store and its kind stay).
  void set_config(std::shared_ptr<const config::Config> cfg);
  // The runner that executes lines through the gateway's path (the lead's pipeline provides it). Until one
  // is set, batches are accepted, listed, cancelled and expired, but no line runs.
  void set_runner(std::shared_ptr<LineRunner> runner);
  // The usage ledger finished lines are fed into, once each (docs/batch.md "Exactly once in the ledger");
  // null (ledger disabled): nothing is fed. Follows reloads (the ledger is reopened when its settings
  // change).
  void set_ledger(std::shared_ptr<ledger::Ledger> ledger);
  // Stops claiming lines and waits up to `drain` for lines in flight; then stops the executor thread and the
  // store. At shutdown only: the routes must not be used afterwards.
  void stop(std::chrono::milliseconds drain);

  std::shared_ptr<const config::Config> config() const;
  store::StoreThreads& store() { return *store_; }
  const BatchClock& clock() const { return *clock_; }
  const RateBoard& rates() const { return rates_; }
  const std::string& replica() const { return replica_; }

 private:
  BatchService() = default;

  mutable std::mutex mu_;
  std::shared_ptr<const config::Config> cfg_;
  std::unique_ptr<BatchClock> clock_;
  std::unique_ptr<store::StoreThreads> store_;
  RateBoard rates_;
  std::string replica_;
  std::unique_ptr<Executor> executor_;  // destroyed after the io_context (declared before it)
  std::unique_ptr<net::io_context> ioc_;
  std::thread thread_;
  bool stopped_ = false;
};

// "hostname-pid-random": names this process's leases.
std::string make_replica_id();

}  // namespace sluice::batch
