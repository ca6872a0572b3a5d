#pragma once
// A prepared SQLite statement with RAII, typed binds (1-based) and column reads (0-based), so the store's
// queries read as SQL plus a few lines.
#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace sluice::store {

class SqliteStmt {
 public:
  SqliteStmt(sqlite3* db, std::string_view sql) : db_(db) {
    ok_ = sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &st_, nullptr) == SQLITE_OK;
  }
  ~SqliteStmt() { sqlite3_finalize(st_); }
  SqliteStmt(const SqliteStmt&) = delete;
  SqliteStmt& operator=(const SqliteStmt&) = delete;

  bool ok() const { return ok_; }
  void bind_text(int i, std::string_view s) {
    sqlite3_bind_text(st_, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
  }
  void bind_blob(int i, std::string_view s) {
    sqlite3_bind_blob64(st_, i, s.data(), s.size(), SQLITE_STATIC);  // caller keeps it alive until step()
  }
  void bind_int64(int i, std::int64_t v) { sqlite3_bind_int64(st_, i, v); }
  void bind_double(int i, double v) { sqlite3_bind_double(st_, i, v); }
  // Binds ?1, ?2, ... in order: strings as text, integers as int64.
  template <class... Args>
  void bind(const Args&... args) {
    int i = 0;
    (bind_one(++i, args), ...);
  }

  // Ready to run again (bindings stay).
  void reset() { sqlite3_reset(st_); }
  // True while a row is available.
  bool row() {
    rc_ = ok_ ? sqlite3_step(st_) : SQLITE_ERROR;
    return rc_ == SQLITE_ROW;
  }
  // Runs to completion; true on success.
  bool run() {
    while (row()) {
    }
    return rc_ == SQLITE_DONE;
  }
  std::string text(int i) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(st_, i));
    return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(st_, i))) : std::string();
  }
  std::string blob(int i) const {
    const auto* p = static_cast<const char*>(sqlite3_column_blob(st_, i));
    return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(st_, i))) : std::string();
  }
  std::int64_t int64(int i) const { return sqlite3_column_int64(st_, i); }
  double real(int i) const { return sqlite3_column_double(st_, i); }
  std::string error() const { return sqlite3_errmsg(db_); }
  int changes() const { return sqlite3_changes(db_); }

 private:
  void bind_one(int i, std::string_view s) { bind_text(i, s); }
  void bind_one(int i, std::int64_t v) { bind_int64(i, v); }

  sqlite3* db_;
  sqlite3_stmt* st_ = nullptr;
  bool ok_ = false;
  int rc_ = SQLITE_OK;
};

}  // namespace sluice::store
