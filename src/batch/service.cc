#include "batch/service.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <future>
#include <random>
#include <utility>

#include "common/thread_name.h"

namespace sluice::batch {

std::string make_replica_id() {
  char host[64] = {};
  gethostname(host, sizeof host - 1);
  std::random_device rd;
  return fmt::format("{}-{}-{:08x}", host, getpid(), rd());
}

std::shared_ptr<BatchService> BatchService::start(std::shared_ptr<const config::Config> cfg,
                                                  std::string& error) {
  const auto& b = cfg->batch;
  std::vector<std::unique_ptr<store::Store>> stores;
  if (b.store == config::BatchConfig::Store::kSqlite) {
    auto s = store::open_sqlite_store(b.sqlite_path, error);
    if (!s) {
      return nullptr;
    }
    s->release_all_leases();  // one process owns the file: leases of a previous run are void
    stores.push_back(std::move(s));
  } else {
    for (std::uint32_t i = 0; i < b.postgres_connections; ++i) {
      auto s = store::open_postgres_store(b.postgres_conninfo, error);
      if (!s) {
        return nullptr;
      }
      stores.push_back(std::move(s));
    }
  }
  std::shared_ptr<BatchService> svc(new BatchService());
  svc->cfg_ = cfg;
  svc->clock_ = std::make_unique<SystemBatchClock>(b.time_scale, b.time_start_minute);
  svc->store_ = std::make_unique<store::StoreThreads>(std::move(stores));
  svc->replica_ = make_replica_id();
  svc->executor_ =
      std::make_unique<Executor>(*svc->store_, nullptr, *svc->clock_, svc->replica_, std::random_device{}());
  svc->executor_->set_rate_board(&svc->rates_);
  svc->executor_->set_config(cfg);
  svc->ioc_ = std::make_unique<net::io_context>(1);
  net::co_spawn(*svc->ioc_, svc->executor_->run_loop(), [](std::exception_ptr e) {
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        spdlog::error("batch executor stopped: {}", ex.what());
      }
    }
  });
  svc->thread_ = std::thread([ioc = svc->ioc_.get()] {
    name_this_thread("sluice-batch");
    auto guard = net::make_work_guard(*ioc);
    ioc->run();
  });
  spdlog::info("batch: {} store ready{} (replica {})",
               b.store == config::BatchConfig::Store::kSqlite ? "SQLite" : "PostgreSQL",
               b.store == config::BatchConfig::Store::kSqlite ? " at " + b.sqlite_path : "", svc->replica_);
  return svc;
}

BatchService::~BatchService() { stop(std::chrono::milliseconds(0)); }

std::shared_ptr<const config::Config> BatchService::config() const {
  std::lock_guard lock(mu_);
  return cfg_;
}

void BatchService::set_config(std::shared_ptr<const config::Config> cfg) {
  {
    std::lock_guard lock(mu_);
    cfg_ = cfg;
  }
  net::post(*ioc_, [this, cfg] { executor_->set_config(cfg); });
}

void BatchService::set_runner(std::shared_ptr<LineRunner> runner) {
  net::post(*ioc_,
            [this, runner = std::move(runner)]() mutable { executor_->set_runner(std::move(runner)); });
}

void BatchService::set_ledger(std::shared_ptr<ledger::Ledger> ledger) {
  net::post(*ioc_,
            [this, ledger = std::move(ledger)]() mutable { executor_->set_ledger(std::move(ledger)); });
}

void BatchService::stop(std::chrono::milliseconds drain) {
  if (stopped_ || !ioc_) {
    return;
  }
  stopped_ = true;
  net::post(*ioc_, [this] { executor_->stop(); });
  // Lines in flight finish within the drain; the rest keep their leases, which expire (SQLite: released at
  // the next start), so another run takes them: nothing is lost.
  // A ledger round under way ends too: the ledger's thread posts its answer into the io_context, which must
  // outlive that (a round is one transaction: it gets a few seconds beyond the drain).
  const auto until = std::chrono::steady_clock::now() + drain;
  const auto feed_until = until + std::chrono::seconds(5);
  bool feeding = false;
  for (;;) {
    std::promise<std::pair<std::size_t, bool>> state;
    auto f = state.get_future();
    net::post(*ioc_, [this, &state] { state.set_value({executor_->in_flight(), executor_->feeding()}); });
    const auto [left, feed] = f.get();
    feeding = feed;
    const auto now = std::chrono::steady_clock::now();
    if ((left == 0 || now >= until) && (!feeding || now >= feed_until)) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ioc_->stop();
  thread_.join();
  // Store jobs still queued run now and post their answers into the stopped io_context; then the coroutines
  // waiting for them are destroyed with it.
  store_.reset();
  if (feeding) {
    // The ledger may still post into it: left allocated (stopped, it never runs). The lines are fed again.
    spdlog::error("batch: the ledger did not answer a feed round at shutdown; the next start feeds it again");
    (void)ioc_.release();
    return;
  }
  ioc_.reset();
}

}  // namespace sluice::batch
