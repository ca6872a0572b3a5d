#pragma once
// The usage/cost ledger: per-second totals of requests, tokens and money, by key, model, upstream, upstream
// model, source, stream and status. A worker adds its request to the current totals under a mutex (a compare
// with the last group or a hash lookup; no allocation unless the group is new this interval); a dedicated
// thread writes the totals gathered since its last flush in one WAL transaction every flush_interval, so
// neither disk latency nor SQLite's per-row cost lands on a worker. Queries run on the same thread after the
// pending totals are written.
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "config/config.h"
#include "http/asio.h"

namespace sluice::ledger {

// One answered request. The views need to live only through record().
struct UsageRecord {
  std::int64_t ts_ms = 0;  // unix time
  std::string_view key, model, upstream, upstream_model;
  std::string_view source;  // upstream | cache | coalesced | stale
  bool stream = false;
  unsigned status = 0;
  std::int64_t prompt = 0, completion = 0, cache_hit = 0, cache_miss = 0, reasoning = 0;
  double cost_usd = 0, savings_usd = 0;
};

// What one stored row groups by: a second (ts_ms / 1000, rounded down) and the request's dimensions.
struct GroupKey {
  std::int64_t second = 0;
  std::string key, model, upstream, upstream_model, source;
  bool stream = false;
  unsigned status = 0;
};

// The sums one stored row holds.
struct Totals {
  std::int64_t requests = 0, prompt = 0, completion = 0, cache_hit = 0, cache_miss = 0, reasoning = 0;
  double cost_usd = 0, savings_usd = 0;
  void add(const UsageRecord& r);
  void add(const Totals& t);
};

// Hashes and compares a GroupKey with a UsageRecord's dimensions too, so a lookup allocates nothing.
struct GroupHash {
  using is_transparent = void;
  std::size_t operator()(const GroupKey& k) const;
  std::size_t operator()(const UsageRecord& r) const;
};
struct GroupEq {
  using is_transparent = void;
  bool operator()(const GroupKey& a, const GroupKey& b) const;
  bool operator()(const UsageRecord& r, const GroupKey& k) const;
  bool operator()(const GroupKey& k, const UsageRecord& r) const { return (*this)(r, k); }
};

// One stored row: a group and its sums.
using Row = std::pair<GroupKey, Totals>;

// A request the ledger counts at most once however often it is given, by its id (the Batch API's lines,
// "<batch_id>/<idx>", fed from the batch store: docs/batch.md "Exactly once in the ledger").
struct OnceRecord {
  std::string id;
  Row row;  // one request: requests = 1
};
OnceRecord once_record(std::string id, const UsageRecord& r);

// The records of distinct ids (the first of each), in id order (the order sinks take row locks in).
std::vector<const OnceRecord*> distinct_by_id(const std::vector<OnceRecord>& records);
// Rows of the same group summed into one.
std::vector<Row> fold_rows(const std::vector<const Row*>& rows);

// Rounds down for times before 1970 too.
constexpr std::int64_t second_of(std::int64_t ms) { return ms >= 0 ? ms / 1000 : (ms + 1) / 1000 - 1; }

struct UsageQuery {
  std::int64_t from_ms = 0;
  std::int64_t to_ms = INT64_MAX;
  std::vector<std::string> group_by;  // subset of: key model upstream source day hour
  std::string only_key;               // non-empty: rows of this key only
};

// Where the ledger thread keeps rows: the SQLite file (default), or PostgreSQL, shared by replicas (when
// the Batch API's store is PostgreSQL). Called only on the ledger thread.
class LedgerSink {
 public:
  virtual ~LedgerSink() = default;
  // Appends the rows in one transaction; false (logged) when nothing was written.
  virtual bool write(const std::vector<Row>& rows) = 0;
  // In one transaction: adds to the applied ids (usage_applied) those not there yet, and the rows of just
  // those records; the others were counted before and are skipped. False (logged) when nothing was written.
  // `applied`: how many records were new.
  virtual bool write_once(const std::vector<OnceRecord>& records, std::size_t& applied) = 0;
  // /admin/usage's JSON for the query.
  virtual std::string query(const UsageQuery& q) = 0;
};

std::unique_ptr<LedgerSink> open_sqlite_sink(const config::LedgerConfig& cfg, std::string& error);
std::unique_ptr<LedgerSink> open_postgres_sink(const std::string& conninfo, std::string& error);

// The totals (and groups) of a query in /admin/usage's JSON shape. `values` holds, per result row, the
// group_by values then the 12 aggregates of kUsageAggregates as text.
inline constexpr std::size_t kUsageAggregateCount = 12;
std::string usage_json(const UsageQuery& q, const std::vector<std::vector<std::string>>& values);
// The aggregates every sink computes (the same SQL in SQLite and PostgreSQL).
extern const std::string_view kUsageAggregates;

class Ledger {
 public:
  // Groups kept in memory while the file cannot be written; beyond it the oldest are dropped (and logged).
  static constexpr std::size_t kMaxPendingRows = 1'000'000;

  // Opens (creating) the database (cfg.postgres_conninfo set: PostgreSQL); null + error when it cannot.
  static std::unique_ptr<Ledger> open(const config::LedgerConfig& cfg, std::string& error);
  ~Ledger();

  void record(const UsageRecord& r);
  // JSON totals (and groups) for the query; `done` runs on the ledger thread.
  void query(UsageQuery q, std::function<void(std::string)> done);

  // The durable, idempotent path (the hot path is record()): the records are written on the ledger thread
  // (at once, not at the next flush) with their ids in one transaction; a record whose id was applied before
  // is skipped. `done(true)` runs on the ledger thread once they are committed, `done(false)` when the write
  // failed (nothing was written: give them again later).
  void record_once(std::vector<OnceRecord> records, std::function<void(bool)> done);

  template <class Token>
  auto async_record_once(std::vector<OnceRecord> records, Token&& token) {
    return net::async_initiate<Token, void(bool)>(
        [this](auto handler, std::vector<OnceRecord> records) {
          auto ex = net::get_associated_executor(handler);
          auto h = std::make_shared<decltype(handler)>(std::move(handler));
          record_once(std::move(records),
                      [h, ex](bool ok) { net::post(ex, [h, ok]() mutable { std::move (*h)(ok); }); });
        },
        token, std::move(records));
  }

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
  using Groups = std::unordered_map<GroupKey, Totals, GroupHash, GroupEq>;

  Ledger(std::unique_ptr<LedgerSink> sink, std::chrono::milliseconds flush);
  void run();

  // Used by the ledger thread only. A failed write keeps its rows for the next flush, up to kMaxPendingRows.
  std::unique_ptr<LedgerSink> sink_;
  std::chrono::milliseconds flush_;
  std::mutex mu_;
  std::condition_variable cv_;
  Groups pending_;
  // The group the last record() went to: a worker's next request is usually of the same group and second,
  // and comparing costs half of hashing. Its node stays put as pending_ grows; null once the map is taken.
  Groups::value_type* last_ = nullptr;
  std::vector<std::pair<UsageQuery, std::function<void(std::string)>>> queries_;
  std::vector<std::pair<std::vector<OnceRecord>, std::function<void(bool)>>> once_;
  bool stop_ = false;
  std::thread thread_;
};

// "group_by=key,model" and from/to (unix seconds, YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ) → query; error text on
// a bad parameter.
std::optional<UsageQuery> parse_usage_query(std::string_view target, std::string& error);

}  // namespace sluice::ledger
