#pragma once
// The running gateway's config generations: the current GatewayState, hot reload (admin API, SIGHUP, config
// file change) and the optional admin and metrics listeners. A reload builds a complete new GatewayState and hands every
// worker a new handler for new requests; requests in flight finish on the generation they started with, so the
// old state dies with its last request. Settings the running listener cannot change are reported, not applied.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/signal_set.hpp>

#include "config/loader.h"
#include "gateway/gateway.h"
#include "http/server.h"
#include "telemetry/metrics.h"

namespace sluice::gateway {

struct ReloadOutcome {
  bool ok = false;
  std::uint64_t generation = 0;               // the active generation afterwards
  std::vector<std::string> errors;            // "file:line: path: message"; the old config stays
  std::vector<std::string> warnings;          // loader warnings of the new file
  std::vector<std::string> restart_required;  // changed settings that only apply after a restart
};

// Which settings differ in ways a running server cannot apply (listen address, workers, server limits,
// admin listener). Pure; exposed for unit tests.
std::vector<std::string> settings_requiring_restart(const config::Config& running, const config::Config& next);

class Runtime {
 public:
  // `config_path` empty = the embedded default config.
  Runtime(std::string config_path, config::EnvLookup env, std::shared_ptr<GatewayState> initial);
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  std::shared_ptr<GatewayState> current() const;
  std::uint64_t generation() const { return generation_.load(std::memory_order_relaxed); }
  // For http::Server: the current generation's proxy handler plus the admin routes on the main listener.
  http::HandlerFactory handler_factory();

  // Starts the admin listener (when configured; prints its address), SIGHUP handling and the config file
  // watch. `server` must outlive stop(). Returns an error message, empty on success.
  std::string start(http::Server& server);
  void stop();

  // Something that must follow the current generation (e.g. a health monitor over its router): `start` runs
  // now for the current state and again for every state a reload installs; the function it returns runs when
  // that generation is replaced and on stop(). The state outlives its stop function.
  using GenerationHook = std::function<std::function<void()>(GatewayState&)>;
  void add_generation_hook(GenerationHook start);

  // Thread-safe; concurrent reloads run one after the other. `trigger` is for logs ("admin", "SIGHUP", ...).
  ReloadOutcome reload(std::string_view trigger);

  std::uint64_t reloads_ok() const { return reloads_ok_.load(std::memory_order_relaxed); }
  std::uint64_t reloads_failed() const { return reloads_failed_.load(std::memory_order_relaxed); }
  const std::string& config_path() const { return config_path_; }
  uint16_t admin_port() const { return admin_.port; }
  uint16_t metrics_port() const { return metrics_.port; }

 private:
  struct FileStamp {
    std::int64_t mtime_ns = -1, size = -1, inode = -1;
    bool operator==(const FileStamp&) const = default;
  };
  FileStamp stamp() const;
  void watch_loop();

  std::string config_path_;
  config::EnvLookup env_;
  mutable std::mutex mu_;  // guards current_
  std::shared_ptr<GatewayState> current_;
  std::atomic<std::uint64_t> generation_{1};
  std::mutex reload_mu_;  // one reload at a time; guards last_stamp_, hooks_, hook_stops_
  std::vector<GenerationHook> hooks_;
  std::vector<std::function<void()>> hook_stops_;  // for the current generation
  void run_hooks(GatewayState& st);
  void stop_hooks();
  FileStamp last_stamp_;
  std::atomic<std::uint64_t> reloads_ok_{0}, reloads_failed_{0};
  telemetry::Counter* reloads_ok_metric_ = nullptr;  // sluice_config_reloads_total{result}
  telemetry::Counter* reloads_failed_metric_ = nullptr;
  std::uint64_t collector_id_ = 0;  // sets sluice_upstream_drained from the current generation
  http::Server* server_ = nullptr;

  // A listener of its own thread beside the main one: the admin API, the scrape-only metrics port.
  struct SideListener {
    std::unique_ptr<http::Server> server;
    std::thread thread;
    uint16_t port = 0;
    // Binds and starts serving (prints the address); an error message, empty on success.
    std::string start(std::string_view name, const config::Endpoint& at, http::HandlerFactory factory);
    void stop();
  };
  SideListener admin_;
  SideListener metrics_;
  std::unique_ptr<net::io_context> watch_ioc_;
  std::unique_ptr<net::signal_set> hup_;
  std::thread watch_thread_;
};

}  // namespace sluice::gateway
