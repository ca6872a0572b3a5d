// The embedded store: one SQLite file (WAL, synchronous=NORMAL) used by one store thread of one process.
#include <fmt/format.h>
#include <sqlite3.h>

#include <algorithm>
#include <filesystem>
#include <iterator>
#include <tuple>

#include "store/columns.h"
#include "store/sqlite_stmt.h"
#include "store/store.h"

namespace sluice::store {

namespace {
constexpr int kSchemaVersion = 1;

// The two request_counts columns that follow kBatch in every batch query.
constexpr std::string_view kSqliteCounts =
    ", (SELECT count(*) FROM batch_results r WHERE r.batch_id = b.id AND r.success = 1)"
    ", (SELECT count(*) FROM batch_results r WHERE r.batch_id = b.id AND r.success = 0)";

bool exec_sql(sqlite3* db, std::string_view sql, std::string& error) {
  char* msg = nullptr;
  if (sqlite3_exec(db, std::string(sql).c_str(), nullptr, nullptr, &msg) != SQLITE_OK) {
    error = msg ? msg : "unknown SQLite error";
    sqlite3_free(msg);
    return false;
  }
  return true;
}

// BEGIN IMMEDIATE ... COMMIT, rolled back unless commit() succeeded.
class SqliteTx {
 public:
  explicit SqliteTx(sqlite3* db) : db_(db) { open_ = exec_sql(db_, "BEGIN IMMEDIATE", error_); }
  ~SqliteTx() {
    if (open_) {
      exec_sql(db_, "ROLLBACK", error_);
    }
  }
  SqliteTx(const SqliteTx&) = delete;
  SqliteTx& operator=(const SqliteTx&) = delete;
  bool ok() const { return open_; }
  bool commit() {
    if (!open_) {
      return false;
    }
    open_ = false;
    if (!exec_sql(db_, "COMMIT", error_)) {
      exec_sql(db_, "ROLLBACK", error_);
      return false;
    }
    return true;
  }
  const std::string& error() const { return error_; }

 private:
  sqlite3* db_;
  bool open_ = false;
  std::string error_;
};

class SqliteStore final : public Store {
 public:
  explicit SqliteStore(sqlite3* db) : db_(db) {}
  ~SqliteStore() override { sqlite3_close(db_); }

  bool put_file(const FileRecord& f, std::string_view content, std::string& error) override {
    SqliteStmt st(db_,
                  "INSERT INTO batch_files(id, owner, purpose, filename, bytes, created_at, content) "
                  "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    st.bind(f.id, f.owner, f.purpose, f.filename, f.bytes, f.created_at);
    st.bind_blob(7, content);
    if (!st.run()) {
      error = st.error();
      return false;
    }
    return true;
  }

  std::optional<FileRecord> get_file(std::string_view owner, std::string_view id) override {
    SqliteStmt st(db_,
                  fmt::format("SELECT {} FROM batch_files WHERE owner = ?1 AND id = ?2", columns::kFile));
    st.bind(owner, id);
    if (!st.row()) {
      return std::nullopt;
    }
    return columns::read_file(st);
  }

  std::optional<std::string> file_content(std::string_view owner, std::string_view id) override {
    SqliteStmt st(db_, "SELECT content FROM batch_files WHERE owner = ?1 AND id = ?2");
    st.bind(owner, id);
    if (!st.row()) {
      return std::nullopt;
    }
    return st.blob(0);
  }

  std::vector<FileRecord> list_files(const ListQuery& q) override {
    const char* cmp = q.ascending ? ">" : "<";
    SqliteStmt st(db_,
                  fmt::format("SELECT {} FROM batch_files WHERE owner = ?1 AND (?2 = '' OR purpose = ?2) "
                              "AND (?3 = '' OR seq {} (SELECT seq FROM batch_files WHERE owner = ?1 AND "
                              "id = ?3)) ORDER BY seq {} LIMIT ?4",
                              columns::kFile, cmp, q.ascending ? "ASC" : "DESC"));
    st.bind(q.owner, q.purpose, q.after, static_cast<std::int64_t>(q.limit + 1));
    std::vector<FileRecord> out;
    while (st.row()) {
      out.push_back(columns::read_file(st));
    }
    return out;
  }

  bool delete_file(std::string_view owner, std::string_view id) override {
    SqliteStmt st(db_, "DELETE FROM batch_files WHERE owner = ?1 AND id = ?2");
    st.bind(owner, id);
    return st.run() && st.changes() > 0;
  }

  bool create_batch(const BatchRecord& b, const std::vector<InputLine>& lines, std::string& error) override {
    SqliteTx tx(db_);
    if (!tx.ok()) {
      error = tx.error();
      return false;
    }
    SqliteStmt ins(db_,
                   fmt::format("INSERT INTO batches({}) VALUES ({})", columns::kBatch, placeholders(25)));
    columns::bind_batch(ins, b);
    if (!ins.run()) {
      error = ins.error();
      return false;
    }
    SqliteStmt line(db_, "INSERT INTO batch_lines(batch_id, idx, custom_id, body) VALUES (?1, ?2, ?3, ?4)");
    for (std::size_t i = 0; i < lines.size(); ++i) {
      line.bind(b.id, static_cast<std::int64_t>(i), lines[i].custom_id, lines[i].body);
      if (!line.run()) {
        error = fmt::format("line {}: {}", lines[i].line, line.error());
        return false;
      }
      line.reset();
    }
    if (!tx.commit()) {
      error = tx.error();
      return false;
    }
    return true;
  }

  std::optional<BatchRecord> get_batch(std::string_view owner, std::string_view id) override {
    SqliteStmt st(db_, fmt::format("SELECT {}{} FROM batches b WHERE b.owner = ?1 AND b.id = ?2",
                                   columns::kBatchQualified, kSqliteCounts));
    st.bind(owner, id);
    if (!st.row()) {
      return std::nullopt;
    }
    return columns::read_batch(st);
  }

  std::vector<BatchRecord> list_batches(const ListQuery& q) override {
    SqliteStmt st(db_, fmt::format("SELECT {}{} FROM batches b WHERE b.owner = ?1 AND (?2 = '' OR b.seq < "
                                   "(SELECT seq FROM batches WHERE owner = ?1 AND id = ?2)) "
                                   "ORDER BY b.seq DESC LIMIT ?3",
                                   columns::kBatchQualified, kSqliteCounts));
    st.bind(q.owner, q.after, static_cast<std::int64_t>(q.limit + 1));
    return read_batches(st);
  }

  std::optional<BatchRecord> request_cancel(std::string_view owner, std::string_view id,
                                            std::int64_t now_s) override {
    SqliteStmt st(db_,
                  "UPDATE batches SET status = 'cancelling', cancelling_at = ?3 WHERE owner = ?1 AND "
                  "id = ?2 AND status IN ('validating', 'in_progress')");
    st.bind(owner, id, now_s);
    st.run();
    return get_batch(owner, id);
  }

  std::vector<BatchRecord> active_batches() override {
    SqliteStmt st(db_, fmt::format("SELECT {}{} FROM batches b WHERE b.status IN ('in_progress', "
                                   "'cancelling', 'finalizing') ORDER BY b.seq",
                                   columns::kBatchQualified, kSqliteCounts));
    return read_batches(st);
  }

  std::vector<LineClaim> claim_lines(std::string_view batch_id, std::string_view replica, std::int64_t now_ms,
                                     std::int64_t lease_ms, std::size_t limit) override {
    SqliteStmt st(db_,
                  "UPDATE batch_lines SET lease_owner = ?2, lease_until = ?4 WHERE batch_id = ?1 AND idx IN "
                  "(SELECT idx FROM batch_lines WHERE batch_id = ?1 AND done = 0 AND lease_until <= ?3 "
                  "AND not_before <= ?3 ORDER BY idx LIMIT ?5) RETURNING idx, custom_id, body, attempts");
    st.bind(batch_id, replica, now_ms, std::int64_t{now_ms + lease_ms}, static_cast<std::int64_t>(limit));
    std::vector<LineClaim> out;
    while (st.row()) {
      out.push_back(LineClaim{std::string(batch_id), st.int64(0), st.text(1), st.text(2),
                              static_cast<std::int32_t>(st.int64(3))});
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.idx < b.idx; });
    return out;
  }

  std::size_t renew_leases(std::string_view replica,
                           const std::vector<std::pair<std::string, std::int64_t>>& lines,
                           std::int64_t until_ms) override {
    SqliteTx tx(db_);
    SqliteStmt st(db_,
                  "UPDATE batch_lines SET lease_until = ?4 WHERE batch_id = ?1 AND idx = ?2 AND "
                  "lease_owner = ?3 AND done = 0");
    std::size_t held = 0;
    for (const auto& [batch_id, idx] : lines) {
      st.bind(batch_id, idx, replica, until_ms);
      st.run();
      held += st.changes() > 0 ? 1 : 0;
      st.reset();
    }
    return tx.commit() ? held : 0;
  }

  bool complete_line(const LineOutcome& o) override {
    SqliteTx tx(db_);
    const bool wrote = insert_result(o);
    SqliteStmt done(db_,
                    "UPDATE batch_lines SET done = 1, lease_owner = NULL WHERE batch_id = ?1 AND idx = ?2");
    done.bind(o.batch_id, o.idx);
    done.run();
    return tx.commit() && wrote;
  }

  bool retry_line(std::string_view batch_id, std::int64_t idx, std::string_view replica,
                  std::int64_t not_before_ms) override {
    SqliteStmt st(db_,
                  "UPDATE batch_lines SET attempts = attempts + 1, not_before = ?4, lease_owner = NULL, "
                  "lease_until = 0 WHERE batch_id = ?1 AND idx = ?2 AND lease_owner = ?3 AND done = 0");
    st.bind(batch_id, idx, replica, not_before_ms);
    return st.run() && st.changes() > 0;
  }

  LineCounts line_counts(std::string_view batch_id, std::int64_t now_ms) override {
    SqliteStmt st(db_,
                  "SELECT count(*), coalesce(sum(done), 0), coalesce(sum(done = 0 AND lease_until > ?2), 0), "
                  "coalesce(sum(done = 0 AND lease_until <= ?2 AND not_before > ?2), 0), "
                  "(SELECT count(*) FROM batch_results WHERE batch_id = ?1 AND success = 1) "
                  "FROM batch_lines WHERE batch_id = ?1");
    st.bind(batch_id, now_ms);
    LineCounts c;
    if (st.row()) {
      c = LineCounts{st.int64(0), st.int64(1), st.int64(2), st.int64(3), st.int64(4)};
    }
    return c;
  }

  BatchUsage batch_usage(std::string_view batch_id) override {
    SqliteStmt st(db_, std::string(columns::kUsageSums) + "?1");
    st.bind(batch_id);
    BatchUsage u;
    if (st.row()) {
      u = BatchUsage{st.int64(0), st.int64(1), st.int64(2), st.int64(3), st.int64(4), st.real(5), st.real(6)};
    }
    return u;
  }

  std::optional<std::string> begin_finalizing(std::string_view batch_id, std::string_view replica,
                                              std::string_view status, std::int64_t now_ms,
                                              std::int64_t lease_ms, std::int64_t now_s) override {
    SqliteStmt st(
        db_,
        "UPDATE batches SET fin_status = CASE WHEN fin_status = '' THEN ?3 ELSE fin_status END, "
        "status = CASE WHEN (CASE WHEN fin_status = '' THEN ?3 ELSE fin_status END) = 'completed' "
        "THEN 'finalizing' ELSE status END, "
        "finalizing_at = CASE WHEN finalizing_at = 0 AND (CASE WHEN fin_status = '' THEN ?3 ELSE fin_status "
        "END) "
        "= 'completed' THEN ?6 ELSE finalizing_at END, "
        "fin_owner = ?2, fin_until = ?4 + ?5 WHERE id = ?1 AND status IN ('in_progress', 'cancelling', "
        "'finalizing') AND (fin_owner IS NULL OR fin_owner = ?2 OR fin_until <= ?4) RETURNING fin_status");
    st.bind(batch_id, replica, status, now_ms, lease_ms, now_s);
    if (!st.row()) {
      return std::nullopt;
    }
    std::string out = st.text(0);
    st.run();
    return out;
  }

  bool finalize(const Finalization& f) override;

  void release_all_leases() override {
    std::string error;
    exec_sql(db_,
             "UPDATE batch_lines SET lease_owner = NULL, lease_until = 0 WHERE done = 0; "
             "UPDATE batches SET fin_owner = NULL, fin_until = 0; "
             "UPDATE batch_results SET ledger_until = 0 WHERE ledgered = 0",
             error);
  }

  LedgerBacklog unledgered_lines(std::int64_t now_ms, std::int64_t hold_ms, std::size_t limit) override;
  bool mark_ledgered(const std::vector<std::pair<std::string, std::int64_t>>& lines) override;

 private:
  static std::string placeholders(int n) {
    std::string out;
    for (int i = 1; i <= n; ++i) {
      out += (i > 1 ? ", ?" : "?") + std::to_string(i);
    }
    return out;
  }
  std::vector<BatchRecord> read_batches(SqliteStmt& st) {
    std::vector<BatchRecord> out;
    while (st.row()) {
      out.push_back(columns::read_batch(st));
    }
    return out;
  }
  bool insert_result(const LineOutcome& o);

  sqlite3* db_;
};

bool SqliteStore::insert_result(const LineOutcome& o) {
  SqliteStmt st(db_, fmt::format("INSERT INTO batch_results({}) VALUES ({}) "
                                 "ON CONFLICT(batch_id, custom_id) DO NOTHING",
                                 columns::kResult, placeholders(columns::kResultCount)));
  st.bind(o.batch_id, o.custom_id, o.idx, std::int64_t{o.success ? 1 : 0}, o.line_json, o.status_code,
          o.prompt_tokens, o.completion_tokens, o.cache_hit_tokens, o.cache_miss_tokens, o.reasoning_tokens);
  st.bind_double(12, o.cost_usd);
  st.bind_double(13, o.full_cost_usd);
  st.bind_int64(14, o.finished_ms);
  const LedgerEntry none;
  const LedgerEntry& l = o.ledger ? *o.ledger : none;
  int i = 14;
  for (const std::string* t : {&l.key, &l.model, &l.upstream, &l.upstream_model}) {
    st.bind_text(++i, *t);
  }
  st.bind_int64(++i, l.status);
  st.bind_double(++i, l.cost_usd);
  st.bind_int64(++i, l.unix_ms);
  st.bind_int64(++i, o.ledger ? 0 : 1);
  st.bind_text(++i, l.source);
  return st.run() && st.changes() > 0;
}

LedgerBacklog SqliteStore::unledgered_lines(std::int64_t now_ms, std::int64_t hold_ms, std::size_t limit) {
  LedgerBacklog out;
  SqliteTx tx(db_);
  SqliteStmt count(db_, "SELECT count(*) FROM batch_results WHERE ledgered = 0");
  if (!tx.ok() || !count.row()) {
    return out;
  }
  out.pending = count.int64(0);
  count.run();
  if (out.pending == 0) {
    return out;
  }
  SqliteStmt take(db_, fmt::format("UPDATE batch_results SET ledger_until = ?2 WHERE rowid IN (SELECT rowid "
                                   "FROM batch_results WHERE ledgered = 0 AND ledger_until <= ?1 LIMIT ?3) "
                                   "RETURNING {}",
                                   columns::kUnledgered));
  take.bind(now_ms, std::int64_t{now_ms + hold_ms}, static_cast<std::int64_t>(limit));
  while (take.row()) {
    out.lines.push_back(columns::read_unledgered(take));
    out.lines.back().entry.cost_usd = take.real(7);
  }
  if (!tx.commit()) {
    out.lines.clear();  // not held: another round takes them
  }
  return out;
}

bool SqliteStore::mark_ledgered(const std::vector<std::pair<std::string, std::int64_t>>& lines) {
  SqliteTx tx(db_);
  SqliteStmt st(db_, "UPDATE batch_results SET ledgered = 1 WHERE batch_id = ?1 AND idx = ?2");
  for (const auto& [batch_id, idx] : lines) {
    st.bind(batch_id, idx);
    if (!st.run()) {
      return false;
    }
    st.reset();
  }
  return tx.commit();
}

bool SqliteStore::finalize(const Finalization& f) {
  SqliteTx tx(db_);
  SqliteStmt head(db_, "SELECT owner, status FROM batches WHERE id = ?1");
  head.bind_text(1, f.batch_id);
  if (!tx.ok() || !head.row()) {
    return false;
  }
  const std::string owner = head.text(0);
  const std::string status = head.text(1);
  if (status != "in_progress" && status != "cancelling" && status != "finalizing") {
    return false;  // final already (another replica finished it)
  }
  SqliteStmt open_lines(db_, "SELECT idx, custom_id FROM batch_lines WHERE batch_id = ?1 AND done = 0");
  open_lines.bind_text(1, f.batch_id);
  while (open_lines.row()) {
    LineOutcome o{f.batch_id, open_lines.int64(0), open_lines.text(1)};
    o.line_json = f.unfinished_line ? f.unfinished_line(o.idx, o.custom_id) : "";
    o.finished_ms = f.now_ms;
    insert_result(o);
  }
  SqliteStmt close(db_,
                   "UPDATE batch_lines SET done = 1, lease_owner = NULL WHERE batch_id = ?1 AND done = 0");
  close.bind_text(1, f.batch_id);
  close.run();
  columns::FileContents files;
  SqliteStmt results(db_, "SELECT success, line FROM batch_results WHERE batch_id = ?1 ORDER BY idx");
  results.bind_text(1, f.batch_id);
  while (results.row()) {
    files.add(results.int64(0) != 0, results.text(1));
  }
  std::string error;
  for (const auto& out : files.files(f.batch_id, owner, f.at_s)) {
    SqliteStmt del(db_, "DELETE FROM batch_files WHERE id = ?1");  // a retried finalization rewrites it
    del.bind_text(1, out.record.id);
    del.run();
    if (!put_file(out.record, *out.content, error)) {
      return false;
    }
  }
  SqliteStmt fin(db_, fmt::format("UPDATE batches SET status = ?2, {}_at = ?3, output_file_id = ?4, "
                                  "error_file_id = ?5, fin_owner = NULL WHERE id = ?1",
                                  f.status));
  fin.bind(f.batch_id, f.status, f.at_s, files.output_id(f.batch_id), files.error_id(f.batch_id));
  return fin.run() && tx.commit();
}

// Adds the ledger columns a database made before them lacks (SQLite has no ADD COLUMN IF NOT EXISTS).
bool add_ledger_columns(sqlite3* db, std::string& error) {
  SqliteTx tx(db);
  if (!tx.ok()) {
    error = tx.error();
    return false;
  }
  SqliteStmt has(db, "SELECT count(*) FROM pragma_table_info('batch_results') WHERE name = ?1");
  for (std::size_t i = 0; i < std::size(columns::kLedgerColumns); ++i) {
    has.bind_text(1, columns::kLedgerColumns[i].first);
    const bool present = has.row() && has.int64(0) > 0;
    has.run();
    has.reset();
    if (!present &&
        !exec_sql(db, "ALTER TABLE batch_results ADD COLUMN " + columns::ledger_column_sql(i, false),
                  error)) {
      return false;
    }
  }
  if (!exec_sql(db, columns::kLedgerIndex, error)) {
    return false;
  }
  if (!tx.commit()) {
    error = tx.error();
    return false;
  }
  return true;
}
}  // namespace

std::unique_ptr<Store> open_sqlite_store(const std::string& path, std::string& error) {
  std::error_code ec;
  if (auto dir = std::filesystem::path(path).parent_path(); !dir.empty() && path != ":memory:") {
    std::filesystem::create_directories(dir, ec);
    if (ec) {
      error = "batch store " + dir.string() + ": " + ec.message();
      return nullptr;
    }
  }
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                      nullptr) != SQLITE_OK) {
    error = "batch store " + path + ": " + (db ? sqlite3_errmsg(db) : "cannot open");
    sqlite3_close(db);
    return nullptr;
  }
  sqlite3_busy_timeout(db, 5000);
  std::string why;
  std::int64_t v = 0;
  {
    SqliteStmt version(db, "PRAGMA user_version");
    v = version.row() ? version.int64(0) : 0;
    version.run();
  }
  if (v > kSchemaVersion) {
    why = fmt::format("schema version {} is newer than this sluice's ({})", v, kSchemaVersion);
  } else if (exec_sql(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", why) &&
             exec_sql(db, columns::schema_sql(false), why) && add_ledger_columns(db, why)) {
    exec_sql(db, fmt::format("PRAGMA user_version={}", kSchemaVersion), why);
    return std::make_unique<SqliteStore>(db);
  }
  error = "batch store " + path + ": " + why;
  sqlite3_close(db);
  return nullptr;
}

}  // namespace sluice::store
