#pragma once
// The results of a run as a text table (stdout), a JSON document (--json) and an HTML page (--html).
#include <string>

#include "bench/options.h"
#include "bench/recorder.h"

namespace sluice::bench {

struct RunInfo {
  const BenchConfig& config;
  const Recorder& recorder;
  std::string started_at;  // wall-clock time, ISO 8601 UTC
  const std::vector<Recorder>* by_class = nullptr;  // parallel to config.mix (--mix), else null or empty
};

std::string format_table(const RunInfo& run);
std::string format_json(const RunInfo& run);
std::string format_html(const RunInfo& run);
// --engine-out: the engine file `sluice plan` reads (engine_file.cc); empty + error when the run cannot say.
std::string format_engine_file(const RunInfo& run, std::string& error);

// "1.2 ms", "850 µs", "2.40 s": µs in, human units out.
std::string format_us(std::uint64_t us);

}  // namespace sluice::bench
