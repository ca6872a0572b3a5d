#pragma once
// The Batch API's durable store: one interface, two implementations — embedded SQLite (one process, the
// default) and PostgreSQL (several replicas on one database). Calls are synchronous and may block on disk or
// network: they run only on the store's own threads (StoreThreads), never on a gateway worker.
//
// Lines are claimed under leases: a claim sets lease_owner/lease_until on up to `limit` lines that are not
// done, not leased (or whose lease expired) and not held back by a retry backoff; PostgreSQL takes them with
// SELECT ... FOR UPDATE SKIP LOCKED, so replicas never claim the same line at once. A replica that dies loses
// nothing: its leases expire and another replica claims the lines. Results are written idempotently: one
// result per (batch id, custom_id), the first one wins (a primary key on both). A result that reached an
// upstream also keeps the ledger's row of it until the ledger confirms it has it (ledgered = 1).
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/records.h"

namespace sluice::store {

class Store {
 public:
  virtual ~Store() = default;

  // Files. Content is kept in the store, so every replica can serve it.
  virtual bool put_file(const FileRecord& f, std::string_view content, std::string& error) = 0;
  virtual std::optional<FileRecord> get_file(std::string_view owner, std::string_view id) = 0;
  virtual std::optional<std::string> file_content(std::string_view owner, std::string_view id) = 0;
  virtual std::vector<FileRecord> list_files(const ListQuery& q) = 0;
  virtual bool delete_file(std::string_view owner, std::string_view id) = 0;

  // Batches. create_batch stores the batch and all its lines in one transaction.
  virtual bool create_batch(const BatchRecord& b, const std::vector<InputLine>& lines,
                            std::string& error) = 0;
  virtual std::optional<BatchRecord> get_batch(std::string_view owner, std::string_view id) = 0;
  virtual std::vector<BatchRecord> list_batches(const ListQuery& q) = 0;
  // in_progress / validating → cancelling (other states unchanged); the batch as it is afterwards.
  virtual std::optional<BatchRecord> request_cancel(std::string_view owner, std::string_view id,
                                                    std::int64_t now_s) = 0;

  // Executor side (any owner).
  virtual std::vector<BatchRecord> active_batches() = 0;  // in_progress, cancelling, finalizing
  virtual std::vector<LineClaim> claim_lines(std::string_view batch_id, std::string_view replica,
                                             std::int64_t now_ms, std::int64_t lease_ms,
                                             std::size_t limit) = 0;
  // Extends the leases this replica still holds; returns how many it still held.
  virtual std::size_t renew_leases(std::string_view replica,
                                   const std::vector<std::pair<std::string, std::int64_t>>& lines,
                                   std::int64_t until_ms) = 0;
  // Writes a line's result unless it has one already; true when this call wrote it.
  virtual bool complete_line(const LineOutcome& o) = 0;
  // A retryable failure: the line is released and not claimed again before `not_before_ms`.
  virtual bool retry_line(std::string_view batch_id, std::int64_t idx, std::string_view replica,
                          std::int64_t not_before_ms) = 0;
  virtual LineCounts line_counts(std::string_view batch_id, std::int64_t now_ms) = 0;
  virtual BatchUsage batch_usage(std::string_view batch_id) = 0;
  // Takes the right to finalize under a lease and records the final status (`completed` also shows the
  // batch as finalizing); false when another replica holds it or the batch is final already. A replica that
  // takes over an expired finalization keeps the recorded status (the returned value).
  virtual std::optional<std::string> begin_finalizing(std::string_view batch_id, std::string_view replica,
                                                      std::string_view status, std::int64_t now_ms,
                                                      std::int64_t lease_ms, std::int64_t now_s) = 0;
  // In one transaction: error results for lines without one, the output and error files, the final status.
  virtual bool finalize(const Finalization& f) = 0;
  // Drops every lease (SQLite at start-up: no other process can hold one), and every ledger-feed hold.
  virtual void release_all_leases() = 0;

  // The ledger feed (an outbox, docs/batch.md "Exactly once in the ledger"): up to `limit` results whose
  // usage the ledger does not have yet (ledgered = 0) and that no replica holds, each now held until now_ms +
  // hold_ms, so another replica takes them only if this one dies before marking them.
  virtual LedgerBacklog unledgered_lines(std::int64_t now_ms, std::int64_t hold_ms, std::size_t limit) = 0;
  // The ledger has the usage of these lines (batch id, idx): ledgered = 1. False when the write failed.
  virtual bool mark_ledgered(const std::vector<std::pair<std::string, std::int64_t>>& lines) = 0;
};

// Opens the SQLite store (creating the file and its directory); null + error when it cannot.
std::unique_ptr<Store> open_sqlite_store(const std::string& path, std::string& error);
// Connects to PostgreSQL and creates the schema if needed; null + error when it cannot.
std::unique_ptr<Store> open_postgres_store(const std::string& conninfo, std::string& error);

}  // namespace sluice::store
