#pragma once
// The Batch API's metrics (docs/metrics.md), registered once, updated by the executor and the routes.
#include <array>
#include <string_view>

#include "telemetry/metrics.h"

namespace sluice::batch {

enum class LineEnd : std::uint8_t { kSucceeded, kFailed, kRetried, kDuplicate };

struct BatchMetrics {
  telemetry::Gauge* in_flight = nullptr;       // sluice_batch_lines_in_flight
  telemetry::Gauge* active_batches = nullptr;  // sluice_batch_active
  telemetry::Counter* lines(LineEnd e) const { return line_ends[static_cast<std::size_t>(e)]; }
  telemetry::Counter* finalized(std::string_view status) const;  // sluice_batch_finalized_total{status}
  std::array<telemetry::Counter*, 4> line_ends{};                // sluice_batch_lines_total{result}
  std::array<telemetry::Counter*, 3> final_states{};             // completed, expired, cancelled
  telemetry::Counter* created = nullptr;                         // sluice_batch_created_total
  telemetry::Counter* uploads = nullptr;                         // sluice_batch_files_uploaded_total
  telemetry::Counter* upload_bytes = nullptr;                    // sluice_batch_file_bytes_total
  telemetry::Counter* rejected = nullptr;      // sluice_batch_rejected_total (bad input of files/batches)
  telemetry::Gauge* ledger_pending = nullptr;  // sluice_batch_ledger_pending
  telemetry::Counter* ledger_fed = nullptr;    // sluice_batch_ledger_lines_total
};

const BatchMetrics& batch_metrics();

}  // namespace sluice::batch
