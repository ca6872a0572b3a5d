#include "batch/batch_metrics.h"

#include <string>

namespace sluice::batch {

namespace {
constexpr std::string_view kLineEnds[] = {"succeeded", "failed", "retried", "duplicate"};
constexpr std::string_view kFinalStates[] = {"completed", "expired", "cancelled"};

BatchMetrics make_batch_metrics() {
  auto& reg = telemetry::metrics();
  BatchMetrics m;
  m.in_flight = &reg.gauge("sluice_batch_lines_in_flight", "Batch lines this replica is running").with({});
  m.active_batches =
      &reg.gauge("sluice_batch_active", "Batches in progress, cancelling or finalizing (as of the last poll)")
           .with({});
  auto& lines = reg.counter("sluice_batch_lines_total",
                            "Batch line attempts by how they ended (retried: released for a later attempt; "
                            "duplicate: another replica's result was written first)",
                            {"result"});
  for (std::size_t i = 0; i < m.line_ends.size(); ++i) {
    m.line_ends[i] = &lines.with({std::string(kLineEnds[i])});
  }
  auto& fin = reg.counter("sluice_batch_finalized_total", "Batches finalized by final status", {"status"});
  for (std::size_t i = 0; i < m.final_states.size(); ++i) {
    m.final_states[i] = &fin.with({std::string(kFinalStates[i])});
  }
  m.created = &reg.counter("sluice_batch_created_total", "Batches created").with({});
  m.uploads = &reg.counter("sluice_batch_files_uploaded_total", "Files uploaded to /v1/files").with({});
  m.upload_bytes =
      &reg.counter("sluice_batch_file_bytes_total", "Bytes of files uploaded to /v1/files").with({});
  m.rejected =
      &reg.counter("sluice_batch_rejected_total",
                   "Files and batch requests refused as invalid (bad JSONL, unknown endpoint, too large)")
           .with({});
  m.ledger_pending =
      &reg.gauge("sluice_batch_ledger_pending",
                 "Batch line results whose usage is not in the ledger yet (all replicas, as of "
                 "this replica's last ledger feed)")
           .with({});
  m.ledger_fed = &reg.counter("sluice_batch_ledger_lines_total",
                              "Batch line results this replica fed to the ledger and marked as counted")
                      .with({});
  return m;
}
}  // namespace

telemetry::Counter* BatchMetrics::finalized(std::string_view status) const {
  for (std::size_t i = 0; i < final_states.size(); ++i) {
    if (kFinalStates[i] == status) {
      return final_states[i];
    }
  }
  return final_states[0];
}

const BatchMetrics& batch_metrics() {
  static const BatchMetrics m = make_batch_metrics();
  return m;
}

}  // namespace sluice::batch
