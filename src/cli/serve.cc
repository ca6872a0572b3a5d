// `sluice serve`: load config, build the gateway, listen, run until SIGTERM, drain.
#include <spdlog/spdlog.h>

#include <iostream>

#include "batch/service.h"
#include "cli/commands.h"
#include "cli/logging.h"
#include "config/loader.h"
#include "gateway/batch_runner.h"
#include "gateway/gateway.h"
#include "gateway/reload.h"
#include "gateway/host_monitor.h"
#include "http/server.h"

namespace sluice::cli {

namespace {
struct ServeArgs {
  std::string config_path;
  std::string listen;  // overrides the config's listen address
};

int run_serve(const ServeArgs& args) {
  auto env = config::process_env();
  auto loaded = args.config_path.empty()
                    ? config::load_string(config::embedded_default_yaml(), "<embedded default>", env)
                    : config::load_file(args.config_path, env);
  for (const auto& w : loaded.warnings) {
    std::cerr << "warning: " << w.to_string() << "\n";
  }
  if (!loaded.ok()) {
    for (const auto& e : loaded.errors) {
      std::cerr << e.to_string() << "\n";
    }
    return 1;
  }
  auto cfg = loaded.config;
  setup_logging(cfg->log_level);
  std::string error;
  auto state = gateway::make_gateway_state(cfg, error);
  if (!state) {
    std::cerr << "sluice: " << error << "\n";
    return 1;
  }
  http::ServerOptions opts;
  opts.name = "sluice";
  opts.host = cfg->listen.host;
  opts.port = cfg->listen.port;
  if (!args.listen.empty()) {
    auto colon = args.listen.rfind(':');
    std::string port = colon == std::string::npos ? args.listen : args.listen.substr(colon + 1);
    if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
        std::stoul(port) > 65535) {
      std::cerr << "sluice: --listen: expected HOST:PORT, got \"" << args.listen << "\"\n";
      return 2;
    }
    if (colon != std::string::npos && colon > 0) {
      opts.host = args.listen.substr(0, colon);
      if (opts.host.size() > 2 && opts.host.front() == '[' && opts.host.back() == ']') {
        opts.host = opts.host.substr(1, opts.host.size() - 2);
      }
    }
    opts.port = static_cast<uint16_t>(std::stoul(port));
  }
  opts.workers = cfg->workers;
  opts.max_body_bytes = cfg->limits.max_body_bytes;
  opts.max_header_bytes = cfg->limits.max_header_bytes;
  opts.header_timeout = cfg->limits.header_timeout;
  opts.body_timeout = cfg->limits.body_timeout;
  opts.keepalive_timeout = cfg->limits.keepalive_timeout;
  opts.write_timeout = cfg->limits.write_timeout;
  opts.drain_timeout = cfg->limits.drain_timeout;
  opts.finish_on_half_close = cfg->limits.finish_on_half_close;
  opts.shutdown_delay = cfg->limits.shutdown_delay;
  std::shared_ptr<batch::BatchService> batch_service;  // Batch API (docs/batch.md), process-wide
  if (cfg->batch.enabled) {
    batch_service = batch::BatchService::start(cfg, error);
    if (!batch_service) {
      std::cerr << "sluice: " << error << "\n";
      return 1;
    }
    state->batch = batch_service;
    opts.upload_paths = {"/v1/files", "/files"};
    opts.max_upload_bytes = cfg->batch.max_file_bytes + 64 * 1024;  // the file plus its multipart framing
  }
  gateway::Runtime runtime{args.config_path, env, std::move(state)};  // hot reload, admin API (reload.h)
  http::Server server{opts, runtime.handler_factory()};
  if (auto ec = server.listen()) {
    std::cerr << "sluice: cannot listen on " << opts.host << ":" << opts.port << ": " << ec.message() << "\n";
    return 1;
  }
  if (auto err = runtime.start(server); !err.empty()) {
    std::cerr << "sluice: " << err << "\n";
    return 1;
  }
  // Load scraping and active health checks follow the current config generation, on their own thread.
  runtime.add_generation_hook([](gateway::GatewayState& st) {
    auto monitor = std::make_shared<gateway::HostMonitor>(st);
    monitor->start();
    return std::function<void()>([monitor] { monitor->stop(); });
  });
  std::shared_ptr<gateway::GatewayLineRunner> line_runner;
  if (batch_service) {  // lines run through the gateway's own stages, on the current generation
    line_runner = std::make_shared<gateway::GatewayLineRunner>([&runtime] { return runtime.current(); });
    batch_service->set_runner(line_runner);
    // Pricing, models, batch limits and the ledger the results are fed into follow reloads.
    runtime.add_generation_hook([batch_service](gateway::GatewayState& st) {
      batch_service->set_config(st.config);
      batch_service->set_ledger(st.accounting->shared_ledger());
      return std::function<void()>{};
    });
  }
  std::cerr << "sluice: listening on " << opts.host << ":" << server.port() << " (" << server.options().workers
            << " worker(s), " << cfg->models.size() << " model(s), config " << cfg->source << ")" << std::endl;
  server.run();
  if (batch_service) {
    batch_service->stop(cfg->limits.drain_timeout);
    line_runner->release();
  }
  runtime.stop();
  return 0;
}
}  // namespace

void add_serve(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<ServeArgs>();
  auto* sub = app.add_subcommand("serve", "Run the gateway");
  sub->add_option("-c,--config", args->config_path, "YAML config file (default: the embedded DeepSeek config)");
  sub->add_option("--listen", args->listen, "Override the listen address, HOST:PORT (port 0 = any free port)");
  sub->callback([args, &exit_code] { exit_code = run_serve(*args); });
}

void add_check(CLI::App& app, int& exit_code) {
  auto path = std::make_shared<std::string>();
  auto* sub = app.add_subcommand("check", "Validate a config file and exit (non-zero on errors)");
  sub->add_option("-c,--config", *path, "YAML config file")->required();
  sub->callback([path, &exit_code] {
    auto loaded = config::load_file(*path, config::process_env());
    for (const auto& w : loaded.warnings) {
      std::cerr << "warning: " << w.to_string() << "\n";
    }
    for (const auto& e : loaded.errors) {
      std::cerr << e.to_string() << "\n";
    }
    if (!loaded.ok()) {
      exit_code = 1;
      return;
    }
    std::cout << *path << ": OK (" << loaded.config->upstreams.size() << " upstream(s), "
              << loaded.config->models.size() << " model(s), " << loaded.config->keys.size() << " key(s))\n";
    exit_code = 0;
  });
}

}  // namespace sluice::cli
