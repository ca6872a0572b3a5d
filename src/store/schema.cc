// The stores' schema, written once for both dialects.
#include <fmt/format.h>

#include <algorithm>
#include <tuple>

#include "store/columns.h"

namespace sluice::store {

namespace {
static_assert(std::count(columns::kResult.begin(), columns::kResult.end(), ',') + 1 == columns::kResultCount,
              "kResultCount must match kResult");
constexpr std::string_view kSchema = R"sql(
CREATE TABLE IF NOT EXISTS batch_files(
  seq {seq}, id TEXT NOT NULL UNIQUE, owner TEXT NOT NULL, purpose TEXT NOT NULL,
  filename TEXT NOT NULL, bytes {int} NOT NULL, created_at {int} NOT NULL, content {blob} NOT NULL);
CREATE INDEX IF NOT EXISTS batch_files_owner ON batch_files(owner, seq);
CREATE TABLE IF NOT EXISTS batches(
  seq {seq}, id TEXT NOT NULL UNIQUE, owner TEXT NOT NULL, status TEXT NOT NULL,
  endpoint TEXT NOT NULL, model TEXT NOT NULL, input_file_id TEXT NOT NULL, completion_window TEXT NOT NULL,
  schedule TEXT NOT NULL, metadata TEXT NOT NULL, errors TEXT NOT NULL, estimate TEXT NOT NULL,
  created_at {int} NOT NULL, in_progress_at {int} NOT NULL, expires_at {int} NOT NULL,
  finalizing_at {int} NOT NULL, completed_at {int} NOT NULL, failed_at {int} NOT NULL,
  expired_at {int} NOT NULL, cancelling_at {int} NOT NULL, cancelled_at {int} NOT NULL,
  deadline_ms {int} NOT NULL, output_file_id TEXT NOT NULL, error_file_id TEXT NOT NULL,
  total {int} NOT NULL, fin_status TEXT NOT NULL, fin_owner TEXT, fin_until {int} NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS batches_owner ON batches(owner, seq);
CREATE INDEX IF NOT EXISTS batches_status ON batches(status);
CREATE TABLE IF NOT EXISTS batch_lines(
  batch_id TEXT NOT NULL, idx {int} NOT NULL, custom_id TEXT NOT NULL, body TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0, not_before {int} NOT NULL DEFAULT 0, lease_owner TEXT,
  lease_until {int} NOT NULL DEFAULT 0, done INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY(batch_id, idx), UNIQUE(batch_id, custom_id));
CREATE INDEX IF NOT EXISTS batch_lines_todo ON batch_lines(batch_id, done, idx);
CREATE TABLE IF NOT EXISTS batch_results(
  batch_id TEXT NOT NULL, custom_id TEXT NOT NULL, idx {int} NOT NULL, success INTEGER NOT NULL,
  line TEXT NOT NULL, status_code INTEGER NOT NULL, prompt_tokens {int} NOT NULL,
  completion_tokens {int} NOT NULL, cache_hit_tokens {int} NOT NULL, cache_miss_tokens {int} NOT NULL,
  reasoning_tokens {int} NOT NULL, cost_usd {real} NOT NULL, full_cost_usd {real} NOT NULL,
  finished_ms {int} NOT NULL,
  PRIMARY KEY(batch_id, custom_id));
CREATE INDEX IF NOT EXISTS batch_results_order ON batch_results(batch_id, idx);
)sql";

std::string file_id(std::string_view batch_id, std::string_view suffix) {
  return fmt::format("file-{}-{}", batch_id.starts_with("batch_") ? batch_id.substr(6) : batch_id, suffix);
}
}  // namespace

std::string columns::schema_sql(bool postgres) {
  return fmt::format(
      fmt::runtime(kSchema),
      fmt::arg("seq", postgres ? "BIGSERIAL PRIMARY KEY" : "INTEGER PRIMARY KEY AUTOINCREMENT"),
      fmt::arg("int", postgres ? "BIGINT" : "INTEGER"), fmt::arg("blob", postgres ? "BYTEA" : "BLOB"),
      fmt::arg("real", postgres ? "DOUBLE PRECISION" : "REAL"));
}

std::string columns::ledger_column_sql(std::size_t i, bool postgres) {
  const auto& [name, type] = kLedgerColumns[i];
  return fmt::format("{} {}", name,
                     fmt::format(fmt::runtime(type), fmt::arg("int", postgres ? "BIGINT" : "INTEGER"),
                                 fmt::arg("real", postgres ? "DOUBLE PRECISION" : "REAL")));
}

std::vector<columns::OutputFile> columns::FileContents::files(const std::string& batch_id,
                                                              const std::string& owner,
                                                              std::int64_t at_s) const {
  std::vector<OutputFile> out;
  for (const auto& [content, id, name] : {std::tuple{&output, output_id(batch_id), "output"},
                                          std::tuple{&errors, error_id(batch_id), "error"}}) {
    if (!id.empty()) {
      out.push_back({FileRecord{id, owner, "batch_output", fmt::format("{}_{}.jsonl", batch_id, name),
                                static_cast<std::int64_t>(content->size()), at_s},
                     content});
    }
  }
  return out;
}

std::string columns::output_file_id(std::string_view batch_id) { return file_id(batch_id, "output"); }
std::string columns::error_file_id(std::string_view batch_id) { return file_id(batch_id, "errors"); }

}  // namespace sluice::store
