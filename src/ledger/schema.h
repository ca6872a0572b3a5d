#pragma once
// The ledger's SQLite schema: its version, its tables, and moving an older ledger file to it.
// A row holds the totals of `requests` requests of one second with the same key, model, upstream, upstream
// model, source, stream and status (versions 1 and 2 wrote one row per request; their rows count as one).
// Rows are only appended, so their rowids follow time; usage_span keeps, per minute, the rowid range holding
// that minute's rows. A time-range query scans that range instead of an index on ts_ms, which cost ~20 % of
// every insert. The rowid is declared (id INTEGER PRIMARY KEY) so that VACUUM keeps it. usage_applied holds
// the ids of the records written once-only (Ledger::record_once).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

struct sqlite3;

namespace sluice::ledger::schema {

constexpr int kVersion = 3;       // PRAGMA user_version
constexpr int kColumnCount = 16;  // columns an insert binds (all but id)
// What a row written now holds, in bind order (sqlite_sink.cc's bind_row; pg_sink.cc too).
constexpr std::string_view kInsertColumns =
    "ts_ms, key, model, upstream, upstream_model, source, stream, status, requests, prompt_tokens, "
    "completion_tokens, cache_hit_tokens, cache_miss_tokens, reasoning_tokens, cost_usd, savings_usd";
// Rows per multi-row INSERT: one statement step per 32 rows instead of one per row (~15 % less CPU per row).
constexpr int kRowsPerInsert = 32;

// Minute of a unix-ms time, rounding down for times before 1970 too.
constexpr std::int64_t minute_of(std::int64_t ms) { return ms >= 0 ? ms / 60000 : (ms + 1) / 60000 - 1; }

// Creates the schema, or moves an older ledger to it: version 2 gains the `requests` column; version 1
// (implicit rowids, an index on ts_ms) is copied keeping every row and its id. False + error for a newer
// version or a failure.
bool ensure(sqlite3* db, std::string& error);

// "INSERT INTO usage (...) VALUES (?,...)" for `rows` rows of kColumnCount values.
std::string insert_sql(int rows);

// The SQL expression a group_by field groups on; nullopt for an unknown field.
std::optional<std::string_view> group_expr(std::string_view name);

// Runs SQL; false + the error text when it failed.
bool exec(sqlite3* db, const std::string& sql, std::string& error);

}  // namespace sluice::ledger::schema
