#pragma once
// POST /v1/batches without I/O: the request's parameters, the batch record built from the input file
// (or a `failed` batch whose errors name the lines, as OpenAI reports validation failures), and the
// estimate (sluice_estimate) from the plan at creation. Pure, so it is unit-tested directly.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "batch/jsonl.h"
#include "batch/schedule.h"
#include "config/config.h"
#include "store/records.h"

namespace sluice::batch {

// The metadata key that picks the schedule: {"sluice_schedule": "asap" | "off_peak"}.
inline constexpr std::string_view kScheduleKey = "sluice_schedule";

struct CreateParams {
  std::string input_file_id, endpoint, completion_window;
  std::int64_t window_ms = 0;
  std::string metadata_json = "null";
  std::optional<Schedule> schedule;  // from metadata
};

struct ParamError {
  std::string message, code, param;
};

// The JSON body of POST /v1/batches; an error names the parameter.
std::optional<ParamError> parse_create_params(std::string_view body, const config::BatchConfig& cfg,
                                              CreateParams& out);

// "24h", "90m", "2d", "3600s": a whole number and a unit; nullopt otherwise.
std::optional<std::int64_t> parse_completion_window(std::string_view s);

struct Prepared {
  store::BatchRecord record;
  std::vector<InputLine> lines;  // empty for a failed batch
};

struct PrepareInput {
  const config::Config& cfg;
  std::string_view owner;
  const CreateParams& params;
  std::string_view content;          // the input file
  std::int64_t now_ms = 0;           // planning clock
  const RateBoard* rates = nullptr;  // throughput estimates by model (lines/s per concurrent line), if any
  double time_scale = 1;
};

Prepared prepare_batch(const PrepareInput& in, std::string id);

// Expected cost of one line at full price: prompt tokens estimated from the body (as cache misses), output
// tokens min(max_tokens, assumed) (0 for embeddings).
double line_cost_usd(const config::Price& price, std::string_view endpoint, const std::string& body,
                     std::uint32_t assumed_output_tokens);

}  // namespace sluice::batch
