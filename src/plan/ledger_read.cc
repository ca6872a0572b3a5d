// Reads a sluice ledger file read-only: sums per minute, model, source and status class, and per-request
// sizes for the p99s. Any schema version (1 and 2 have no `requests` column: a row is one request).
#include <fmt/format.h>
#include <sqlite3.h>

#include "plan/ledger_profile.h"

namespace sluice::plan {

namespace {

class ReadOnlyDb {
 public:
  explicit ReadOnlyDb(const std::string& path) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
      error_ = db_ ? sqlite3_errmsg(db_) : "cannot open";
    }
  }
  ~ReadOnlyDb() { sqlite3_close(db_); }
  ReadOnlyDb(const ReadOnlyDb&) = delete;
  ReadOnlyDb& operator=(const ReadOnlyDb&) = delete;

  sqlite3* get() const { return db_; }
  const std::string& error() const { return error_; }

  // Runs `sql`, calling row(stmt) per result row; false + error() on failure.
  template <class F>
  bool each(const std::string& sql, F&& row) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) {
      error_ = sqlite3_errmsg(db_);
      sqlite3_finalize(st);
      return false;
    }
    int rc = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
      row(st);
    }
    if (rc != SQLITE_DONE) {
      error_ = sqlite3_errmsg(db_);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE;
  }

 private:
  sqlite3* db_ = nullptr;
  std::string error_;
};

std::string text_column(sqlite3_stmt* st, int i) {
  const auto* p = sqlite3_column_text(st, i);
  return p ? reinterpret_cast<const char*>(p) : "";
}

}  // namespace

std::optional<Profile> read_ledger(const std::string& path,
                                   const std::map<std::string, config::Price>& pricing,
                                   double deferrable_share, std::string& error) {
  ReadOnlyDb db(path);
  if (!db.error().empty()) {
    error = "cannot open ledger: " + db.error();
    return std::nullopt;
  }
  bool has_usage = false;
  bool has_requests = false;
  const bool listed = db.each("PRAGMA table_info(usage)", [&](sqlite3_stmt* st) {
    has_usage = true;
    has_requests = has_requests || text_column(st, 1) == "requests";
  });
  if (!listed || !has_usage) {
    error = listed ? "not a sluice ledger (no usage table)" : "cannot read ledger: " + db.error();
    return std::nullopt;
  }
  const std::string requests = has_requests ? "requests" : "1";
  const std::string minute = "(CASE WHEN ts_ms >= 0 THEN ts_ms / 60000 ELSE (ts_ms + 1) / 60000 - 1 END)";
  std::vector<LedgerMinute> rows;
  const std::string sql = fmt::format(
      "SELECT {0} AS m, coalesce(upstream_model,''), source, coalesce(status,0) BETWEEN 200 AND 299, "
      "sum({1}), "
      "sum(prompt_tokens), sum(completion_tokens), sum(cache_hit_tokens), sum(cache_miss_tokens), "
      "total(cost_usd) FROM usage GROUP BY 1, 2, 3, 4 ORDER BY 1",
      minute, requests);
  bool ok = db.each(sql, [&](sqlite3_stmt* st) {
    LedgerMinute r;
    r.minute = sqlite3_column_int64(st, 0);
    r.model = text_column(st, 1);
    r.source = text_column(st, 2);
    r.ok = sqlite3_column_int(st, 3) != 0;
    r.requests = sqlite3_column_int64(st, 4);
    r.prompt = sqlite3_column_int64(st, 5);
    r.completion = sqlite3_column_int64(st, 6);
    r.cache_hit = sqlite3_column_int64(st, 7);
    r.cache_miss = sqlite3_column_int64(st, 8);
    r.cost_usd = sqlite3_column_double(st, 9);
    rows.push_back(std::move(r));
  });
  // Per-request sizes: a row of one request is exact, a row of several holds their mean (a p99 from those
  // means is a lower bound).
  std::vector<LedgerSizes> sizes;
  ok = ok &&
       db.each(fmt::format("SELECT coalesce(upstream_model,''), CAST(prompt_tokens / {0} AS INTEGER) AS p, "
                           "CAST(completion_tokens / {0} AS INTEGER) AS c, sum({0}) FROM usage WHERE "
                           "source = 'upstream' AND status BETWEEN 200 AND 299 AND {0} > 0 GROUP BY 1, 2, 3",
                           requests),
               [&](sqlite3_stmt* st) {
                 sizes.push_back({text_column(st, 0), sqlite3_column_double(st, 1),
                                  sqlite3_column_double(st, 2), sqlite3_column_double(st, 3)});
               });
  if (!ok) {
    error = "cannot read ledger: " + db.error();
    return std::nullopt;
  }
  if (rows.empty()) {
    error = "the ledger holds no requests";
    return std::nullopt;
  }
  Profile p = profile_from_minutes(rows, sizes, pricing, deferrable_share);
  p.source = fmt::format("ledger {}", path);
  return p;
}

}  // namespace sluice::plan
