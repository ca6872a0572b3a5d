// --engine-out: the engine's throughput at the measured concurrency, in the shape `sluice plan` reads
// (docs/plan.md). With N requests in flight (closed loop), the planner's service model is
//   service time = prefill tokens / prefill rate + N × completion tokens / decode rate,
// so the rates are chosen to reproduce the run's means: prefill rate = uncached prompt tokens / time to
// first token, decode rate = N × completion tokens / time from first token to the end.
#include <fmt/format.h>

#include "bench/report.h"
#include "common/json.h"

namespace sluice::bench {

std::string format_engine_file(const RunInfo& run, std::string& error) {
  const auto& c = run.config;
  const EngineSums& s = run.recorder.engine_sums();
  const double prefill_tokens = s.prompt_tokens - s.cached_prompt_tokens;
  if (s.requests == 0 || prefill_tokens <= 0 || s.completion_tokens <= 0) {
    error = "--engine-out: no successful stream reported usage with prompt and completion tokens";
    return {};
  }
  if (s.ttft_s <= 0 || s.decode_s <= 0) {
    error = "--engine-out: the engine answered without measurable prefill or decode time";
    return {};
  }
  const double n = static_cast<double>(s.requests);
  const double prefill_rate = prefill_tokens / s.ttft_s;
  const double decode_rate = c.concurrency * s.completion_tokens / s.decode_s;
  const std::string source =
      fmt::format("sluice bench --url {} --model {} --stream --concurrency {} ({} requests measured, {})",
                  c.targets.front().url, c.model, c.concurrency, s.requests, run.started_at);
  std::string out = "# Engine throughput measured by sluice bench; read by `sluice plan` (engine.file).\n";
  out += "source: " + json_string(source) + "\n";
  out += "model: " + json_string(c.model) + "\n";
  out += fmt::format("batch: {}\ngpus: {}\n", c.concurrency, c.engine_gpus);
  out +=
      fmt::format("prefill_tokens_per_s: {:.1f}\ndecode_tokens_per_s: {:.1f}\n", prefill_rate, decode_rate);
  out += "measured:\n";
  out += fmt::format("  requests: {}\n", s.requests);
  out += fmt::format("  mean_prompt_tokens: {:.1f}\n", s.prompt_tokens / n);
  out += fmt::format("  mean_cached_prompt_tokens: {:.1f}\n", s.cached_prompt_tokens / n);
  out += fmt::format("  mean_completion_tokens: {:.1f}\n", s.completion_tokens / n);
  out += fmt::format("  mean_ttft_s: {:.6f}\n", s.ttft_s / n);
  out += fmt::format("  mean_e2e_s: {:.6f}\n", s.e2e_s / n);
  return out;
}

}  // namespace sluice::bench
