#pragma once
// Column lists shared by the SQLite and PostgreSQL stores, and the mapping of a result row to a record.
// `Row` is either store's row accessor: text(i) and int64(i) of column i (0-based).
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "store/records.h"

namespace sluice::store::columns {

inline constexpr std::string_view kFile = "id, owner, purpose, filename, bytes, created_at";

inline constexpr std::string_view kBatch =
    "id, owner, status, endpoint, model, input_file_id, completion_window, schedule, metadata, errors, "
    "estimate, created_at, in_progress_at, expires_at, finalizing_at, completed_at, failed_at, expired_at, "
    "cancelling_at, cancelled_at, deadline_ms, output_file_id, error_file_id, total, fin_status";
inline constexpr int kBatchCount = 25;

// The same columns prefixed with "b.", for joins.
inline constexpr std::string_view kBatchQualified =
    "b.id, b.owner, b.status, b.endpoint, b.model, b.input_file_id, b.completion_window, b.schedule, "
    "b.metadata, b.errors, b.estimate, b.created_at, b.in_progress_at, b.expires_at, b.finalizing_at, "
    "b.completed_at, b.failed_at, b.expired_at, b.cancelling_at, b.cancelled_at, b.deadline_ms, "
    "b.output_file_id, b.error_file_id, b.total, b.fin_status";

template <class Row>
FileRecord read_file(Row& r) {
  return FileRecord{r.text(0), r.text(1), r.text(2), r.text(3), r.int64(4), r.int64(5)};
}

// Columns kBatchCount and kBatchCount + 1 of the row are the succeeded and failed counts.
template <class Row>
BatchRecord read_batch(Row& r) {
  BatchRecord b;
  b.id = r.text(0);
  b.owner = r.text(1);
  b.status = r.text(2);
  b.endpoint = r.text(3);
  b.model = r.text(4);
  b.input_file_id = r.text(5);
  b.completion_window = r.text(6);
  b.schedule = r.text(7);
  b.metadata_json = r.text(8);
  b.errors_json = r.text(9);
  b.estimate_json = r.text(10);
  std::int64_t* times[] = {&b.at.created,    &b.at.in_progress, &b.at.expires,
                           &b.at.finalizing, &b.at.completed,   &b.at.failed,
                           &b.at.expired,    &b.at.cancelling,  &b.at.cancelled};
  for (int i = 0; i < 9; ++i) {
    *times[i] = r.int64(11 + i);
  }
  b.deadline_ms = r.int64(20);
  b.output_file_id = r.text(21);
  b.error_file_id = r.text(22);
  b.total = r.int64(23);
  b.fin_status = r.text(24);
  b.completed = r.int64(kBatchCount);
  b.failed = r.int64(kBatchCount + 1);
  return b;
}

// Binds a batch's columns in kBatch order through bind_text(i, s) / bind_int64(i, v), 1-based from `first`.
template <class Bind>
void bind_batch(Bind& st, const BatchRecord& b, int first = 1) {
  int i = first;
  for (const std::string* s :
       {&b.id, &b.owner, &b.status, &b.endpoint, &b.model, &b.input_file_id, &b.completion_window,
        &b.schedule, &b.metadata_json, &b.errors_json, &b.estimate_json}) {
    st.bind_text(i++, *s);
  }
  for (std::int64_t v : {b.at.created, b.at.in_progress, b.at.expires, b.at.finalizing, b.at.completed,
                         b.at.failed, b.at.expired, b.at.cancelling, b.at.cancelled, b.deadline_ms}) {
    st.bind_int64(i++, v);
  }
  st.bind_text(i++, b.output_file_id);
  st.bind_text(i++, b.error_file_id);
  st.bind_int64(i++, b.total);
  st.bind_text(i++, b.fin_status);
}

// Sums over a batch's results, in BatchUsage order.
inline constexpr std::string_view kUsageSums =
    "SELECT coalesce(sum(prompt_tokens), 0), coalesce(sum(completion_tokens), 0), "
    "coalesce(sum(cache_hit_tokens), 0), "
    "coalesce(sum(cache_miss_tokens), 0), coalesce(sum(reasoning_tokens), 0), coalesce(sum(cost_usd), 0), "
    "coalesce(sum(full_cost_usd), 0) FROM batch_results WHERE batch_id = ";

// What a result row is written with: the line, its tokens and costs, then its LedgerEntry and `ledgered`.
inline constexpr std::string_view kResult =
    "batch_id, custom_id, idx, success, line, status_code, prompt_tokens, completion_tokens, "
    "cache_hit_tokens, cache_miss_tokens, reasoning_tokens, cost_usd, full_cost_usd, finished_ms, "
    "ledger_key, ledger_model, ledger_upstream, ledger_upstream_model, ledger_status, ledger_cost_usd, "
    "ledger_ms, ledgered, ledger_source";
inline constexpr int kResultCount = 23;

// batch_results' ledger columns (records.h LedgerEntry, the feed's state), added by ALTER TABLE to databases
// of either age; rows written before they existed were recorded in the ledger directly, hence ledgered = 1.
// {name, type with {int}/{real} placeholders as in schema_sql}.
inline constexpr std::pair<std::string_view, std::string_view> kLedgerColumns[] = {
    {"ledger_key", "TEXT"},
    {"ledger_model", "TEXT"},
    {"ledger_upstream", "TEXT"},
    {"ledger_upstream_model", "TEXT"},
    {"ledger_status", "INTEGER NOT NULL DEFAULT 0"},
    {"ledger_cost_usd", "{real} NOT NULL DEFAULT 0"},
    {"ledger_ms", "{int} NOT NULL DEFAULT 0"},
    {"ledgered", "INTEGER NOT NULL DEFAULT 1"},
    {"ledger_until", "{int} NOT NULL DEFAULT 0"},
    {"ledger_source", "TEXT NOT NULL DEFAULT 'upstream'"},
};
// "name type" of kLedgerColumns[i] in SQLite's or PostgreSQL's types.
std::string ledger_column_sql(std::size_t i, bool postgres);
// Indexes over the ledger columns (after they exist).
inline constexpr std::string_view kLedgerIndex =
    "CREATE INDEX IF NOT EXISTS batch_results_unledgered ON batch_results(ledger_until) WHERE ledgered = 0";

// What the ledger feed reads of a result (UnledgeredLine, in order; the cost, column 7, is read by the
// caller: read_unledgered leaves it).
inline constexpr std::string_view kUnledgered =
    "batch_id, idx, ledger_key, ledger_model, ledger_upstream, ledger_upstream_model, ledger_status, "
    "ledger_cost_usd, ledger_ms, prompt_tokens, completion_tokens, cache_hit_tokens, cache_miss_tokens, "
    "reasoning_tokens, ledger_source";

template <class Row>
UnledgeredLine read_unledgered(Row& r) {
  UnledgeredLine u;
  u.batch_id = r.text(0);
  u.idx = r.int64(1);
  u.entry.key = r.text(2);
  u.entry.model = r.text(3);
  u.entry.upstream = r.text(4);
  u.entry.upstream_model = r.text(5);
  u.entry.status = static_cast<int>(r.int64(6));
  u.entry.unix_ms = r.int64(8);
  std::int64_t* tokens[] = {&u.prompt_tokens, &u.completion_tokens, &u.cache_hit_tokens, &u.cache_miss_tokens,
                            &u.reasoning_tokens};
  for (int i = 0; i < 5; ++i) {
    *tokens[i] = r.int64(9 + i);
  }
  u.entry.source = r.text(14);
  return u;
}

// The tables and indexes of both stores (CREATE ... IF NOT EXISTS), in SQLite's or PostgreSQL's types.
// batch_files and batches number their rows (seq) for list order and cursors; batch_lines holds each request
// with its lease; batch_results one result per (batch_id, custom_id).
std::string schema_sql(bool postgres);

// The output and error files a finalization writes: ids derived from the batch id, so a retried
// finalization writes the same files.
std::string output_file_id(std::string_view batch_id);
std::string error_file_id(std::string_view batch_id);

struct OutputFile {
  FileRecord record;
  const std::string* content = nullptr;
};

// Assembles the two JSONL files from results in line order.
struct FileContents {
  std::string output, errors;
  std::int64_t succeeded = 0, failed = 0;
  void add(bool success, std::string_view line) {
    std::string& f = success ? output : errors;
    f.append(line);
    f += '\n';
    ++(success ? succeeded : failed);
  }
  // The files to write (the non-empty ones), purpose batch_output, owned by the batch's owner.
  std::vector<OutputFile> files(const std::string& batch_id, const std::string& owner,
                                std::int64_t at_s) const;
  std::string output_id(std::string_view batch_id) const {
    return output.empty() ? "" : output_file_id(batch_id);
  }
  std::string error_id(std::string_view batch_id) const {
    return errors.empty() ? "" : error_file_id(batch_id);
  }
};

}  // namespace sluice::store::columns
