#include "ledger/schema.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <string_view>

namespace sluice::ledger::schema {

namespace {
static_assert(std::count(kInsertColumns.begin(), kInsertColumns.end(), ',') + 1 == kColumnCount,
              "kColumnCount must match kInsertColumns");
// The columns of a version-1 ledger (one row per request, each with its request id).
constexpr const char* kV1Columns =
    "ts_ms, request_id, key, model, upstream, upstream_model, source, stream, status, prompt_tokens, "
    "completion_tokens, cache_hit_tokens, cache_miss_tokens, reasoning_tokens, cost_usd, savings_usd";
// `requests` comes last because version 2 files gain it by ALTER TABLE; `request_id` stays for their rows.
constexpr const char* kUsageTable = R"sql(
  (id INTEGER PRIMARY KEY, ts_ms INTEGER NOT NULL, request_id TEXT, key TEXT, model TEXT, upstream TEXT,
  upstream_model TEXT, source TEXT NOT NULL, stream INTEGER, status INTEGER,
  prompt_tokens INTEGER, completion_tokens INTEGER, cache_hit_tokens INTEGER, cache_miss_tokens INTEGER,
  reasoning_tokens INTEGER, cost_usd REAL, savings_usd REAL, requests INTEGER NOT NULL DEFAULT 1);
)sql";
constexpr const char* kAddRequests = "ALTER TABLE usage ADD COLUMN requests INTEGER NOT NULL DEFAULT 1;";
constexpr const char* kSpanTable =
    "CREATE TABLE usage_span (minute INTEGER PRIMARY KEY, first_id INTEGER NOT NULL, last_id INTEGER NOT "
    "NULL);";
// Ids of the records written by record_once (the Batch API's lines), each applied once; ts_ms is the
// record's time (for pruning old ids).
constexpr const char* kAppliedTable =
    "CREATE TABLE IF NOT EXISTS usage_applied (id TEXT PRIMARY KEY, ts_ms INTEGER NOT NULL) WITHOUT ROWID;";
// minute_of in SQL (its integer division truncates toward zero).
constexpr const char* kMinuteSql =
    "(CASE WHEN ts_ms >= 0 THEN ts_ms / 60000 ELSE (ts_ms + 1) / 60000 - 1 END)";

std::int64_t single_int(sqlite3* db, const char* sql) {
  sqlite3_stmt* st = nullptr;
  std::int64_t v = 0;
  if (sqlite3_prepare_v2(db, sql, -1, &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
    v = sqlite3_column_int64(st, 0);
  }
  sqlite3_finalize(st);
  return v;
}

}  // namespace

bool exec(sqlite3* db, const std::string& sql, std::string& error) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) == SQLITE_OK) {
    return true;
  }
  error = err ? err : sqlite3_errmsg(db);
  sqlite3_free(err);
  return false;
}

bool ensure(sqlite3* db, std::string& error) {
  if (!exec(db, "BEGIN IMMEDIATE", error)) {
    return false;
  }
  auto version = single_int(db, "PRAGMA user_version");
  bool ok = true;
  if (version > kVersion) {
    error = fmt::format("schema version {} is newer than this sluice's ({})", version, kVersion);
    ok = false;
  } else if (version == 2) {
    // Its rows are one request each, which is what the new column's default says: no row is touched.
    ok = exec(db, std::string(kAddRequests) + fmt::format("PRAGMA user_version={};", kVersion), error);
    if (ok) {
      spdlog::info("ledger: schema version 2 moved to {} (per-second totals from now on)", kVersion);
    }
  } else if (version < kVersion) {
    // A version-1 ledger (implicit rowids, which VACUUM may renumber) is copied into the new table, keeping
    // each row's id: the spans must stay valid. One transaction: a failure leaves the old file as it was.
    std::int64_t rows = -1;
    if (single_int(db, "SELECT count(*) FROM sqlite_schema WHERE type='table' AND name='usage'") > 0) {
      rows = single_int(db, "SELECT count(*) FROM usage");
      spdlog::info("ledger: moving {} row(s) to schema version {}", rows, kVersion);
    }
    std::string sql =
        rows >= 0 ? std::string("CREATE TABLE usage_v3") + kUsageTable +
                        fmt::format(
                            "INSERT INTO usage_v3 (id, {0}) SELECT rowid, {0} FROM usage ORDER BY rowid;"
                            "DROP TABLE usage; ALTER TABLE usage_v3 RENAME TO usage;",
                            kV1Columns)
                  : std::string("CREATE TABLE usage") + kUsageTable;
    sql += kSpanTable;
    sql += fmt::format("INSERT INTO usage_span SELECT {} AS m, min(rowid), max(rowid) FROM usage GROUP BY m;",
                       kMinuteSql);
    sql += fmt::format("PRAGMA user_version={};", kVersion);
    auto t0 = std::chrono::steady_clock::now();
    ok = exec(db, sql, error);
    if (ok && rows >= 0) {
      spdlog::info("ledger: moved in {:.1f} s",
                   std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
  }
  // Added without a version step: a table older versions never touch (an older sluice reading the file is
  // not disturbed by it).
  ok = ok && exec(db, kAppliedTable, error);
  if (!ok) {
    std::string ignored;
    exec(db, "ROLLBACK", ignored);
    return false;
  }
  return exec(db, "COMMIT", error);
}

std::string insert_sql(int rows) {
  std::string sql = fmt::format("INSERT INTO usage ({}) VALUES ", kInsertColumns);
  for (int i = 0; i < rows; ++i) {
    sql += i ? ",(" : "(";
    for (int c = 0; c < kColumnCount; ++c) {
      sql += c ? ",?" : "?";
    }
    sql += ')';
  }
  return sql;
}

std::optional<std::string_view> group_expr(std::string_view name) {
  if (name == "key") return "coalesce(key,'')";
  if (name == "model") return "coalesce(model,'')";
  if (name == "upstream") return "coalesce(upstream,'')";
  if (name == "source") return "source";
  if (name == "day") return "strftime('%Y-%m-%d', ts_ms / 1000, 'unixepoch')";
  if (name == "hour") return "strftime('%Y-%m-%dT%H:00Z', ts_ms / 1000, 'unixepoch')";
  return std::nullopt;
}

}  // namespace sluice::ledger::schema
