#pragma once
// The built-in scenarios, written in the same YAML users write (one parser, one set of rules).
#include <array>
#include <string_view>

namespace sluice::sim {

struct BuiltinScenario {
  std::string_view name;
  std::string_view yaml;
};

inline constexpr std::array<BuiltinScenario, 7> kBuiltinScenarios{{
    {"healthy", R"(name: healthy
defaults:
  slots: 64
  ttft: {p50: 50ms, p99: 200ms}
  itl: {p50: 5ms, p99: 20ms}
)"},
    {"instant", R"(name: instant
defaults:
  slots: 100000
  ttft: 0ms
  itl: 0ms
  output_tokens: {p50: 16, p99: 16}
)"},
    {"busy-keepalive", R"(name: busy-keepalive
defaults:
  slots: 4
  overload: queue
  keepalive_interval: 1s
  max_wait: 10m
  ttft: {p50: 500ms, p99: 3s}
  itl: {p50: 20ms, p99: 80ms}
)"},
    {"overloaded-503", R"(name: overloaded-503
defaults:
  slots: 8
  overload: 503
  errors: {503: 0.3}
  ttft: {p50: 300ms, p99: 2s}
  itl: {p50: 10ms, p99: 40ms}
)"},
    {"flaky", R"(name: flaky
defaults:
  slots: 32
  ttft: {p50: 100ms, p99: 1s}
  itl: {p50: 10ms, p99: 50ms}
  errors: {500: 0.05, 503: 0.05, 429: 0.05}
  faults:
    reset_before_headers: 0.02
    reset_mid_stream: 0.05
    stall: 0.02
    truncate: 0.05
    malformed: 0.02
)"},
    {"outage", R"(name: outage
loop: true
defaults:
  slots: 32
  ttft: {p50: 50ms, p99: 200ms}
  itl: {p50: 5ms, p99: 20ms}
phases:
  - {name: healthy, duration: 10s}
  - {name: errors, duration: 20s, outage: errors, outage_status: 503}
  - {name: refuse, duration: 20s, outage: refuse}
)"},
    {"slow", R"(name: slow
defaults:
  slots: 16
  ttft: {p50: 5s, p99: 30s}
  itl: {p50: 50ms, p99: 200ms}
  faults: {slow_first_token: 0.1, slow_first_token_ttft: 60s}
)"},
}};

}  // namespace sluice::sim
