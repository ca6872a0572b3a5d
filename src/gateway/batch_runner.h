#pragma once
// The Batch API's line runner in production: a line goes through the gateway's own stages — parsed and routed
// like a request, admitted at the `batch` class (only the capacity interactive traffic leaves), executed by
// the planner with retries, fallbacks and failover, reconciled against the key's limits and budget, charged
// to the batch owner's key (cost metrics; the ledger row goes back in the result, for the batch store to feed
// the ledger once), and written to the access log — with no HTTP connection: the answer goes into a buffer.
// One per process, on the batch thread; each line runs on the current config generation.
#include <functional>
#include <memory>
#include <random>

#include "batch/line_runner.h"
#include "gateway/gateway.h"

namespace sluice::gateway {

class GatewayLineRunner final : public batch::LineRunner {
 public:
  using StateSource = std::function<std::shared_ptr<GatewayState>()>;
  explicit GatewayLineRunner(StateSource current);
  ~GatewayLineRunner() override;
  net::awaitable<batch::LineResult> run(const batch::LineRequest& req) override;
  // Drops the generation it keeps (it holds the gateway state, which holds the batch service: a cycle). Call
  // once the batch thread has stopped.
  void release() { gen_.reset(); }

 private:
  struct Generation;
  // The current generation with this thread's connection pools for it (kept while lines use the old one).
  std::shared_ptr<Generation> generation(const net::any_io_executor& ex);

  StateSource current_;
  std::shared_ptr<Generation> gen_;
  std::mt19937_64 rng_;
};

}  // namespace sluice::gateway
