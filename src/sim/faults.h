#pragma once
// Fault injection: what can go wrong with one request, from the `x-sim-fault` header (precise, for tests)
// or rolled from the scenario phase's fault rates (realistic, for load).
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "sim/distributions.h"

namespace sluice::sim {

struct Phase;

struct FaultSpec {
  unsigned status = 0;                       // answer with this HTTP error (OpenAI body)
  std::optional<std::chrono::milliseconds> retry_after;  // Retry-After header on that error
  bool reset_before_headers = false;         // RST before any byte
  bool refuse = false;                       // outage "refuse": RST at once (port looks dead)
  int64_t reset_after = -1;                  // RST after N content chunks (non-stream: mid-body)
  int64_t stall_after = -1;                  // go silent after N chunks
  int64_t truncate_after = -1;               // finish_reason insufficient_system_resource after N tokens
  int64_t malformed_after = -1;              // emit one malformed chunk after N chunks
  int64_t keepalives = 0;                    // act queued: send N keep-alives first
  std::optional<std::chrono::milliseconds> keepalive_interval;
  bool give_up = false;                      // after the keep-alives, close like an expired max wait
  std::optional<std::chrono::milliseconds> ttft;  // fixed time to first token
  std::optional<std::chrono::milliseconds> itl;   // fixed inter-token latency
  int64_t tokens = -1;                       // force the completion length (still capped by max_tokens)

  bool any_stream_fault() const {
    return reset_after >= 0 || stall_after >= 0 || truncate_after >= 0 || malformed_after >= 0;
  }
};

struct FaultParse {
  FaultSpec spec;
  std::string error;  // empty on success
};

// Grammar: item ("," item)*, item = key ["=" value], spaces around items ignored. Keys:
// status=CODE (400-599), retry-after=DUR, reset-before-headers, reset-after=N, stall-after=N,
// truncate-after=N, malformed-after=N, keepalive=N, keepalive-interval=DUR, give-up, ttft=DUR, itl=DUR,
// tokens=N. DUR is like "250ms", "2s", "1m" (a bare integer is milliseconds). Unknown keys are errors.
FaultParse parse_fault_header(std::string_view header);

// Rolls the phase's fault and error rates (one draw each, in a fixed order, for replayable runs).
FaultSpec roll_faults(const Phase& phase, Rng& rng);

}  // namespace sluice::sim
