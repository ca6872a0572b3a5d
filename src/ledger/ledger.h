#pragma once
// The usage/cost ledger: one SQLite row per answered request. Workers only append to an in-memory batch
// (a mutex and a vector push); a dedicated thread writes batches in one WAL transaction every flush_interval,
// so disk latency never blocks a worker. Queries run on the same thread after the pending rows are written.
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "config/config.h"
#include "http/asio.h"

struct sqlite3;

namespace sluice::ledger {

struct UsageRecord {
  std::int64_t ts_ms = 0;  // unix time
  std::string request_id, key, model, upstream, upstream_model;
  std::string source;  // upstream | cache | coalesced | stale
  bool stream = false;
  unsigned status = 0;
  std::int64_t prompt = 0, completion = 0, cache_hit = 0, cache_miss = 0, reasoning = 0;
  double cost_usd = 0, savings_usd = 0;
};

struct UsageQuery {
  std::int64_t from_ms = 0;
  std::int64_t to_ms = INT64_MAX;
  std::vector<std::string> group_by;  // subset of: key model upstream source day hour
  std::string only_key;               // non-empty: rows of this key only
};

class Ledger {
 public:
  // Rows kept in memory while the file cannot be written; beyond it the oldest are dropped (and logged).
  static constexpr std::size_t kMaxPendingRows = 1'000'000;

  // Opens (creating) the database; null + error when it cannot.
  static std::unique_ptr<Ledger> open(const config::LedgerConfig& cfg, std::string& error);
  ~Ledger();

  void record(UsageRecord r);
  // JSON totals (and groups) for the query; `done` runs on the ledger thread.
  void query(UsageQuery q, std::function<void(std::string)> done);

  template <class Token>
  auto async_query(UsageQuery q, Token&& token) {
    return net::async_initiate<Token, void(std::string)>(
        [this](auto handler, UsageQuery q) {
          auto ex = net::get_associated_executor(handler);
          auto h = std::make_shared<decltype(handler)>(std::move(handler));
          query(std::move(q), [h, ex](std::string json) {
            net::post(ex, [h, json = std::move(json)]() mutable { std::move (*h)(std::move(json)); });
          });
        },
        token, std::move(q));
  }

 private:
  Ledger(sqlite3* db, std::chrono::milliseconds flush);
  void run();
  // False when nothing was written (the file stayed locked, the disk failed): the rows are kept for the next
  // flush, up to kMaxPendingRows.
  bool write(std::vector<UsageRecord>& rows);
  std::string run_query(const UsageQuery& q);
  // Ids of the rows that may lie in [from_ms, to_ms), from usage_span; {1, 0} when none can.
  std::pair<std::int64_t, std::int64_t> id_range(std::int64_t from_ms, std::int64_t to_ms);

  struct Statements;  // prepared once, used by the ledger thread only

  sqlite3* db_;
  std::unique_ptr<Statements> stmts_;
  std::chrono::milliseconds flush_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<UsageRecord> pending_;
  std::vector<std::pair<UsageQuery, std::function<void(std::string)>>> queries_;
  bool stop_ = false;
  std::thread thread_;
};

// "group_by=key,model" and from/to (unix seconds, YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ) → query; error text on
// a bad parameter.
std::optional<UsageQuery> parse_usage_query(std::string_view target, std::string& error);

}  // namespace sluice::ledger
