// The ledger's default sink: a SQLite file (WAL, synchronous=NORMAL) written by the ledger thread.
#include <spdlog/spdlog.h>
#include <sqlite3.h>

#include <algorithm>
#include <boost/container/small_vector.hpp>
#include <mutex>

#include "ledger/ledger.h"
#include "ledger/schema.h"

namespace sluice::ledger {

using schema::exec;
using schema::kColumnCount;
using schema::kRowsPerInsert;
using schema::minute_of;

namespace {
// Binds in schema::kInsertColumns order.
void bind_row(sqlite3_stmt* st, int first, const GroupKey& k, const Totals& t) {
  int i = first;
  sqlite3_bind_int64(st, ++i, k.second * 1000);
  for (const std::string* s : {&k.key, &k.model, &k.upstream, &k.upstream_model, &k.source}) {
    sqlite3_bind_text(st, ++i, s->data(), static_cast<int>(s->size()), SQLITE_STATIC);
  }
  sqlite3_bind_int(st, ++i, k.stream ? 1 : 0);
  sqlite3_bind_int(st, ++i, static_cast<int>(k.status));
  for (std::int64_t v : {t.requests, t.prompt, t.completion, t.cache_hit, t.cache_miss, t.reasoning}) {
    sqlite3_bind_int64(st, ++i, v);
  }
  sqlite3_bind_double(st, ++i, t.cost_usd);
  sqlite3_bind_double(st, ++i, t.savings_usd);
}

// Runs a prepared statement to completion and resets it; false (and a log line) when it failed.
bool step_done(sqlite3* db, sqlite3_stmt* st, std::size_t rows) {
  bool ok = sqlite3_step(st) == SQLITE_DONE;
  if (!ok) {
    spdlog::error("ledger: writing {} row(s) failed: {}", rows, sqlite3_errmsg(db));
  }
  sqlite3_reset(st);
  return ok;
}
struct SqliteStatements {
  sqlite3_stmt* insert_one = nullptr;
  sqlite3_stmt* insert_many = nullptr;
  sqlite3_stmt* last_id = nullptr;
  sqlite3_stmt* span = nullptr;
  sqlite3_stmt* apply = nullptr;

  explicit SqliteStatements(sqlite3* db) {
    sqlite3_prepare_v3(db, "INSERT INTO usage_applied(id, ts_ms) VALUES (?1, ?2) ON CONFLICT(id) DO NOTHING",
                       -1, SQLITE_PREPARE_PERSISTENT, &apply, nullptr);
    sqlite3_prepare_v3(db, schema::insert_sql(1).c_str(), -1, SQLITE_PREPARE_PERSISTENT, &insert_one,
                       nullptr);
    sqlite3_prepare_v3(db, schema::insert_sql(kRowsPerInsert).c_str(), -1, SQLITE_PREPARE_PERSISTENT,
                       &insert_many, nullptr);
    sqlite3_prepare_v3(db, "SELECT coalesce(max(rowid), 0) FROM usage", -1, SQLITE_PREPARE_PERSISTENT,
                       &last_id, nullptr);
    sqlite3_prepare_v3(db,
                       "INSERT INTO usage_span VALUES (?1, ?2, ?3) ON CONFLICT(minute) DO UPDATE SET "
                       "first_id = min(first_id, ?2), last_id = max(last_id, ?3)",
                       -1, SQLITE_PREPARE_PERSISTENT, &span, nullptr);
  }
  ~SqliteStatements() {
    for (auto* st : {insert_one, insert_many, last_id, span, apply}) {
      sqlite3_finalize(st);
    }
  }
  SqliteStatements(const SqliteStatements&) = delete;
  SqliteStatements& operator=(const SqliteStatements&) = delete;

  std::int64_t max_id() {
    std::int64_t id = sqlite3_step(last_id) == SQLITE_ROW ? sqlite3_column_int64(last_id, 0) : 0;
    sqlite3_reset(last_id);
    return id;
  }
};

class SqliteSink final : public LedgerSink {
 public:
  explicit SqliteSink(sqlite3* db) : db_(db) {}
  ~SqliteSink() override {
    stmts_.reset();
    sqlite3_close(db_);
  }
  // False when nothing was written (the file stayed locked, the disk failed).
  bool write(const std::vector<Row>& rows) override;
  bool write_once(const std::vector<OnceRecord>& records, std::size_t& applied) override;
  std::string query(const UsageQuery& q) override;

 private:
  SqliteStatements& stmts() {
    if (!stmts_) {
      stmts_ = std::make_unique<SqliteStatements>(db_);
    }
    return *stmts_;
  }
  // Inside a transaction: appends the rows and widens the spans of their minutes; false when a step failed.
  bool insert_rows(const std::vector<Row>& rows);
  // COMMIT, or ROLLBACK when `ok` is false or the commit failed; the outcome.
  bool finish(bool ok, std::size_t rows);

  // Ids of the rows that may lie in [from_ms, to_ms), from usage_span; {1, 0} when none can.
  std::pair<std::int64_t, std::int64_t> id_range(std::int64_t from_ms, std::int64_t to_ms);

  sqlite3* db_;
  std::unique_ptr<SqliteStatements> stmts_;  // prepared on first use
};

bool SqliteSink::write(const std::vector<Row>& rows) {
  // IMMEDIATE takes the write lock first, so no other writer's rows can fall inside [first, last].
  std::string error;
  if (!exec(db_, "BEGIN IMMEDIATE", error)) {
    spdlog::error("ledger: {} row(s) not written yet, kept for the next flush: {}", rows.size(), error);
    return false;
  }
  return finish(insert_rows(rows), rows.size());
}

bool SqliteSink::write_once(const std::vector<OnceRecord>& records, std::size_t& applied) {
  std::string error;
  if (!exec(db_, "BEGIN IMMEDIATE", error)) {
    spdlog::error("ledger: {} once-only record(s) not written: {}", records.size(), error);
    return false;
  }
  auto& st = stmts();
  std::vector<const Row*> fresh;
  bool ok = true;
  for (const OnceRecord* r : distinct_by_id(records)) {
    sqlite3_bind_text(st.apply, 1, r->id.data(), static_cast<int>(r->id.size()), SQLITE_STATIC);
    sqlite3_bind_int64(st.apply, 2, r->row.first.second * 1000);
    ok = step_done(db_, st.apply, 1) && ok;
    if (ok && sqlite3_changes(db_) > 0) {
      fresh.push_back(&r->row);
    }
  }
  ok = ok && insert_rows(fold_rows(fresh));
  if (!finish(ok, records.size())) {
    return false;
  }
  applied = fresh.size();
  return true;
}

bool SqliteSink::insert_rows(const std::vector<Row>& rows) {
  auto& st = stmts();
  std::int64_t first = st.max_id() + 1;
  bool ok = true;
  std::size_t i = 0;
  for (; i + kRowsPerInsert <= rows.size(); i += kRowsPerInsert) {
    for (int k = 0; k < kRowsPerInsert; ++k) {
      const auto& [key, totals] = rows[i + static_cast<std::size_t>(k)];
      bind_row(st.insert_many, k * kColumnCount, key, totals);
    }
    ok = step_done(db_, st.insert_many, kRowsPerInsert) && ok;
  }
  for (; i < rows.size(); ++i) {
    bind_row(st.insert_one, 0, rows[i].first, rows[i].second);
    ok = step_done(db_, st.insert_one, 1) && ok;
  }
  if (std::int64_t last = st.max_id(); last >= first) {
    // Every minute this batch has rows for now also spans the batch's ids (usually one or two minutes).
    boost::container::small_vector<std::int64_t, 4> minutes;
    for (const auto& [key, totals] : rows) {
      auto m = minute_of(key.second * 1000);
      if (std::find(minutes.begin(), minutes.end(), m) == minutes.end()) {
        minutes.push_back(m);
      }
    }
    for (auto m : minutes) {
      sqlite3_bind_int64(st.span, 1, m);
      sqlite3_bind_int64(st.span, 2, first);
      sqlite3_bind_int64(st.span, 3, last);
      ok = step_done(db_, st.span, 0) && ok;
    }
  }
  return ok;
}

bool SqliteSink::finish(bool ok, std::size_t rows) {
  std::string error;
  if (ok && exec(db_, "COMMIT", error)) {
    return true;
  }
  spdlog::error("ledger: {} row(s) not committed (kept for the next flush, or given again): {}", rows,
                ok ? error : std::string("a write failed"));
  exec(db_, "ROLLBACK", error);
  return false;
}

std::pair<std::int64_t, std::int64_t> SqliteSink::id_range(std::int64_t from_ms, std::int64_t to_ms) {
  if (to_ms <= from_ms) {
    return {1, 0};
  }
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db_, "SELECT min(first_id), max(last_id) FROM usage_span WHERE minute BETWEEN ? AND ?",
                     -1, &st, nullptr);
  sqlite3_bind_int64(st, 1, minute_of(from_ms));
  sqlite3_bind_int64(st, 2, minute_of(to_ms - 1));
  std::pair<std::int64_t, std::int64_t> range{1, 0};
  if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
    range = {sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1)};
  }
  sqlite3_finalize(st);
  return range;
}

std::string SqliteSink::query(const UsageQuery& q) {
  std::string cols;
  for (const auto& g : q.group_by) {
    cols += std::string(*schema::group_expr(g)) + ",";
  }
  std::string sql = "SELECT " + cols + std::string(kUsageAggregates) +
                    " FROM usage WHERE rowid BETWEEN ? AND ? AND ts_ms >= ? AND ts_ms < ?";
  if (!q.only_key.empty()) {
    sql += " AND key = ?";
  }
  if (!cols.empty()) {
    cols.pop_back();
    sql += " GROUP BY " + cols + " ORDER BY " + cols;
  }
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) {
    return R"({"error":"ledger query failed"})";
  }
  auto [first_id, last_id] = id_range(q.from_ms, q.to_ms);
  sqlite3_bind_int64(st, 1, first_id);
  sqlite3_bind_int64(st, 2, last_id);
  sqlite3_bind_int64(st, 3, q.from_ms);
  sqlite3_bind_int64(st, 4, q.to_ms);
  if (!q.only_key.empty()) {
    sqlite3_bind_text(st, 5, q.only_key.data(), static_cast<int>(q.only_key.size()), SQLITE_STATIC);
  }
  std::vector<std::vector<std::string>> rows;
  const int columns = static_cast<int>(q.group_by.size() + kUsageAggregateCount);
  while (sqlite3_step(st) == SQLITE_ROW) {
    auto& row = rows.emplace_back();
    for (int c = 0; c < columns; ++c) {
      const unsigned char* t = sqlite3_column_text(st, c);
      row.emplace_back(t ? reinterpret_cast<const char*>(t) : "");
    }
  }
  sqlite3_finalize(st);
  return usage_json(q, rows);
}

}  // namespace

std::unique_ptr<LedgerSink> open_sqlite_sink(const config::LedgerConfig& cfg, std::string& error) {
  // SQLite's allocation statistics take a global mutex per malloc; nothing reads them.
  static std::once_flag no_memstatus;
  std::call_once(no_memstatus, [] { sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); });
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(cfg.path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                      nullptr) != SQLITE_OK) {
    error = "ledger.path " + cfg.path + ": " + (db ? sqlite3_errmsg(db) : "cannot open");
    sqlite3_close(db);
    return nullptr;
  }
  sqlite3_busy_timeout(db, static_cast<int>(cfg.busy_timeout.count()));
  // WAL + synchronous=NORMAL: a batch commit is one sequential append, durable across process crashes.
  std::string why;
  if (!exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", why) || !schema::ensure(db, why)) {
    error = "ledger.path " + cfg.path + ": " + why;
    sqlite3_close(db);
    return nullptr;
  }
  return std::make_unique<SqliteSink>(db);
}

}  // namespace sluice::ledger
