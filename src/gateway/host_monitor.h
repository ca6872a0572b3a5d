#pragma once
// Watches upstreams from outside the request path, on its own thread and io_context so workers never wait
// for it: scrapes load metrics (load_aware balancer) and runs active health checks. Results reach the
// workers through HostState's atomics.
#include <memory>
#include <thread>

#include "gateway/gateway.h"

namespace sluice::gateway {

class HostMonitor {
 public:
  explicit HostMonitor(GatewayState& state);
  ~HostMonitor();  // stops and joins
  HostMonitor(const HostMonitor&) = delete;
  HostMonitor& operator=(const HostMonitor&) = delete;

  // Starts the thread when any upstream has load_metrics or health_check enabled; otherwise does nothing.
  void start();
  void stop();

 private:
  GatewayState& state_;
  net::io_context ioc_{1};
  std::thread thread_;
  std::uint64_t collector_ = 0;  // sluice_upstream_load_score, refreshed at scrape time
};

}  // namespace sluice::gateway
