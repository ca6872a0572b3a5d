#pragma once
// What the Batch API keeps durably: uploaded files, batches, their request lines (claimed under leases) and
// one result per line. Plain values; the store implementations map them to SQL.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::store {

struct FileRecord {
  std::string id;
  std::string owner;    // virtual key name ("" on a gateway without keys)
  std::string purpose;  // batch | batch_output
  std::string filename;
  std::int64_t bytes = 0;
  std::int64_t created_at = 0;  // unix seconds
};

// Timestamps are unix seconds, 0 = not reached (null in the API).
struct BatchTimes {
  std::int64_t created = 0, in_progress = 0, expires = 0, finalizing = 0, completed = 0, failed = 0,
               expired = 0, cancelling = 0, cancelled = 0;
};

struct BatchRecord {
  std::string id;
  std::string owner;
  std::string status;  // validating | failed | in_progress | finalizing | completed | expired | cancelling |
                       // cancelled
  std::string endpoint;  // /v1/chat/completions | /v1/embeddings
  std::string model;     // of every line
  std::string input_file_id;
  std::string completion_window;       // as the client sent it ("24h")
  std::string schedule;                // asap | off_peak
  std::string metadata_json = "null";  // the client's metadata object
  std::string errors_json = "null";    // {"object":"list","data":[...]} for a failed batch
  std::string estimate_json = "null";  // sluice_estimate
  BatchTimes at;
  std::int64_t deadline_ms = 0;  // expires_at in ms on the planning clock
  std::string output_file_id, error_file_id;
  std::int64_t total = 0, completed = 0, failed = 0;  // request_counts (counted when read)
  // Set once a replica began finalizing: the status the batch ends in (completed | expired | cancelled).
  std::string fin_status;
};

// A request of a new batch, as the input file holds it.
struct InputLine {
  std::uint32_t line = 0;  // 1-based line of the file
  std::string custom_id;
  std::string body;  // the request body, compact JSON
};

// A line as the executor runs it.
struct LineClaim {
  std::string batch_id;
  std::int64_t idx = 0;  // 0-based order in the input file
  std::string custom_id;
  std::string body;
  std::int32_t attempts = 0;  // finished retryable attempts so far
};

// What the usage ledger records of a line's final answer (one request of the batch owner's key). Kept with
// the result, in the same transaction, so the ledger can be fed from the store (an outbox): see
// Store::unledgered_lines.
struct LedgerEntry {
  std::string key;  // the batch owner
  std::string model, upstream, upstream_model;
  int status = 0;
  double cost_usd = 0;       // at the real time's price of the upstream model, as the ledger prices requests
  std::int64_t unix_ms = 0;  // when the answer came (real clock)
  std::string source = "upstream";  // upstream (cost_usd is paid) | cache (cost_usd is saved)
};

// A line's final outcome: the JSONL line that goes into the output (success) or error file.
struct LineOutcome {
  std::string batch_id;
  std::int64_t idx = 0;
  std::string custom_id;
  bool success = false;
  std::string line_json;  // {"id":..,"custom_id":..,"response":..,"error":..}
  int status_code = 0;    // 0 when no response (expired, cancelled)
  std::int64_t prompt_tokens = 0, completion_tokens = 0, cache_hit_tokens = 0, cache_miss_tokens = 0,
               reasoning_tokens = 0;
  double cost_usd = 0;       // at the price of the moment it finished (planning clock)
  double full_cost_usd = 0;  // the same tokens at full (peak) price
  std::int64_t finished_ms = 0;
  // Set when the line reached an upstream: the result waits (ledgered = 0) until the ledger has it. Null
  // (no upstream request: a 400, an expired line) leaves nothing for the ledger (ledgered = 1).
  std::optional<LedgerEntry> ledger;
};

// A result whose usage is not in the ledger yet (ledgered = 0), with the tokens the ledger row holds.
struct UnledgeredLine {
  std::string batch_id;
  std::int64_t idx = 0;
  LedgerEntry entry;
  std::int64_t prompt_tokens = 0, completion_tokens = 0, cache_hit_tokens = 0, cache_miss_tokens = 0,
               reasoning_tokens = 0;
};

// One round of the ledger feed: lines taken (held for this replica) and how many waited in all.
struct LedgerBacklog {
  std::vector<UnledgeredLine> lines;
  std::int64_t pending = 0;  // results with ledgered = 0 (all replicas), before this round
};

// What a batch's results used so far (sluice_usage on a retrieved batch).
struct BatchUsage {
  std::int64_t prompt_tokens = 0, completion_tokens = 0, cache_hit_tokens = 0, cache_miss_tokens = 0,
               reasoning_tokens = 0;
  double cost_usd = 0, full_cost_usd = 0;
};

struct LineCounts {
  std::int64_t total = 0;
  std::int64_t done = 0;     // lines with a result
  std::int64_t leased = 0;   // not done, under a live lease (running somewhere)
  std::int64_t waiting = 0;  // not done, held back by retry backoff
  std::int64_t succeeded = 0;
  std::int64_t remaining() const { return total - done; }
};

struct ListQuery {
  std::string owner;
  std::string after;       // id of the last object of the previous page
  std::size_t limit = 20;  // the store returns up to limit + 1 rows (the extra one means has_more)
  bool ascending = false;  // newest first by default
  std::string purpose;     // files only; empty = any
};

// Final state of a batch, written with its output and error files in one transaction.
struct Finalization {
  std::string batch_id;
  std::string status;  // completed | expired | cancelled
  std::int64_t at_s = 0;
  std::int64_t now_ms = 0;
  std::string replica;
  // The error-file line of a request that never got a result (expired, cancelled): (line index, custom_id).
  std::function<std::string(std::int64_t, std::string_view)> unfinished_line;
};

}  // namespace sluice::store
