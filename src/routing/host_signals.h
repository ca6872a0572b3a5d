#pragma once
// What is known about a host from outside the request path: the load its own metrics report (written by the
// load scraper) and the verdict of active health checks (written by the health checker). One writer thread,
// many reader workers: relaxed atomics, no locks.
#include <atomic>
#include <chrono>
#include <cstdint>

namespace sluice::routing {

struct LoadReport {
  std::atomic<double> running{0};   // sequences being generated
  std::atomic<double> waiting{0};   // queued in the engine
  std::atomic<double> kv_usage{0};  // 0..1
  std::atomic<double> capacity{0};  // configured, or the most sequences ever seen running
  std::atomic<std::int64_t> at_ms{0};               // steady-clock ms of the last good scrape; 0 = never
  std::atomic<std::int64_t> in_flight_at_scrape{0};  // this gateway's in-flight count when it was taken
  std::atomic<double> score{0};                      // last computed 1/cost, for the gauge
};

struct ActiveHealth {
  std::atomic<bool> failing{false};  // the health check says no
};

inline std::int64_t steady_ms(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

}  // namespace sluice::routing
