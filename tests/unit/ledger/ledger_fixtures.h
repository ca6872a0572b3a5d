#pragma once
// Shared by the ledger and batch executor tests: a fresh directory for one test's ledger file, reading one
// value of it with a connection of its own (what is on disk, whatever the ledger holds in memory), and
// holding its write lock as another process would.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>

#include "config/config.h"

namespace sluice::testing {

// Removed at the end of the test.
struct LedgerTempDb {
  std::filesystem::path dir;
  config::LedgerConfig cfg;
  explicit LedgerTempDb(const std::string& name) {
    dir =
        std::filesystem::temp_directory_path() / ("sluice-ledger-" + name + "-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    cfg.path = (dir / "l.db").string();
    cfg.flush_interval = std::chrono::milliseconds(10);
  }
  ~LedgerTempDb() { std::filesystem::remove_all(dir); }
};

// The first column of the first row of `sql` on the file; -1 when there is none.
inline std::int64_t sqlite_single_int(const std::string& path, const char* sql) {
  sqlite3* raw = nullptr;
  EXPECT_EQ(sqlite3_open(path.c_str(), &raw), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  std::int64_t v = -1;
  if (sqlite3_prepare_v2(raw, sql, -1, &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
    v = sqlite3_column_int64(st, 0);
  }
  sqlite3_finalize(st);
  sqlite3_close(raw);
  return v;
}

// Another process's write lock on the file (BEGIN IMMEDIATE) until release() or destruction.
class SqliteWriteLock {
 public:
  explicit SqliteWriteLock(const std::string& path) {
    EXPECT_EQ(sqlite3_open(path.c_str(), &db_), SQLITE_OK);
    EXPECT_EQ(sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  }
  ~SqliteWriteLock() { release(); }
  SqliteWriteLock(const SqliteWriteLock&) = delete;
  SqliteWriteLock& operator=(const SqliteWriteLock&) = delete;
  void release() {
    if (db_ != nullptr) {
      EXPECT_EQ(sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr), SQLITE_OK);
      sqlite3_close(db_);
      db_ = nullptr;
    }
  }

 private:
  sqlite3* db_ = nullptr;
};

}  // namespace sluice::testing
