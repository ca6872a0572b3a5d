#include "gateway/reload.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <boost/asio/signal_set.hpp>
#include <iostream>

#include "common/thread_name.h"
#include "gateway/admin_api.h"

namespace sluice::gateway {

namespace {
std::string endpoint_text(const config::Endpoint& e) { return fmt::format("{}:{}", e.host, e.port); }
}  // namespace

std::vector<std::string> settings_requiring_restart(const config::Config& running, const config::Config& next) {
  std::vector<std::string> out;
  auto differs = [&](std::string_view key, const std::string& was, const std::string& now) {
    if (was != now) {
      out.push_back(fmt::format("{}: {} -> {} (requires restart)", key, was, now));
    }
  };
  differs("listen", endpoint_text(running.listen), endpoint_text(next.listen));
  differs("workers", std::to_string(running.workers), std::to_string(next.workers));
  auto opt_endpoint = [](const std::optional<config::Endpoint>& e) { return e ? endpoint_text(*e) : "(none)"; };
  differs("admin.listen", opt_endpoint(running.admin.listen), opt_endpoint(next.admin.listen));
  differs("metrics.listen", opt_endpoint(running.metrics.listen), opt_endpoint(next.metrics.listen));
  // The listener's per-connection limits are copied into every worker at start.
  const auto& a = running.limits;
  const auto& b = next.limits;
  const std::pair<std::string_view, bool> limits[] = {
      {"server.max_body_bytes", a.max_body_bytes != b.max_body_bytes},
      {"server.max_header_bytes", a.max_header_bytes != b.max_header_bytes},
      {"server.header_timeout", a.header_timeout != b.header_timeout},
      {"server.body_timeout", a.body_timeout != b.body_timeout},
      {"server.keepalive_timeout", a.keepalive_timeout != b.keepalive_timeout},
      {"server.write_timeout", a.write_timeout != b.write_timeout},
      {"server.drain_timeout", a.drain_timeout != b.drain_timeout},
      {"server.shutdown_delay", a.shutdown_delay != b.shutdown_delay},
  };
  for (const auto& [key, changed] : limits) {
    if (changed) {
      out.push_back(fmt::format("{}: changed (requires restart)", key));
    }
  }
  // The Batch API's store and upload limit are opened and set once (the rest of `batch` follows reloads).
  const auto& x = running.batch;
  const auto& y = next.batch;
  if (x.enabled != y.enabled || x.store != y.store || x.sqlite_path != y.sqlite_path ||
      x.postgres_conninfo != y.postgres_conninfo || x.postgres_connections != y.postgres_connections ||
      x.max_file_bytes != y.max_file_bytes || x.time_scale != y.time_scale ||
      x.time_start_minute != y.time_start_minute) {
    out.push_back("batch: store, data_dir, postgres, max_file_bytes, time_scale or time_start changed (requires restart)");
  }
  return out;
}

Runtime::Runtime(std::string config_path, config::EnvLookup env, std::shared_ptr<GatewayState> initial)
    : config_path_(std::move(config_path)), env_(std::move(env)), current_(std::move(initial)) {
  last_stamp_ = stamp();
  auto& reg = telemetry::metrics();
  auto& reloads = reg.counter("sluice_config_reloads_total", "Config reloads by result (success or failure).",
                              {"result"});
  reloads_ok_metric_ = &reloads.with({"success"});
  reloads_failed_metric_ = &reloads.with({"failure"});
  auto& drained = reg.gauge("sluice_upstream_drained", "1 while an operator has drained the upstream.", {"upstream"});
  // Through current(), never a captured GatewayState: a reload may free the old one at any time.
  collector_id_ = reg.add_collector([this, &drained] {
    auto st = current();
    for (const auto& [name, h] : st->router->hosts()) {
      drained.with({name}).set(h->drained() ? 1 : 0);
    }
  });
}

Runtime::~Runtime() {
  stop();
  telemetry::metrics().remove_collector(collector_id_);
}

std::shared_ptr<GatewayState> Runtime::current() const {
  std::lock_guard lock(mu_);
  return current_;
}

http::HandlerFactory Runtime::handler_factory() {
  return [this](http::Worker& w) { return make_generation_handler(*this, current(), w); };
}

Runtime::FileStamp Runtime::stamp() const {
  struct stat st {};
  if (config_path_.empty() || ::stat(config_path_.c_str(), &st) != 0) {
    return {};
  }
  return {static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec,
          static_cast<std::int64_t>(st.st_size), static_cast<std::int64_t>(st.st_ino)};
}

void Runtime::add_generation_hook(GenerationHook start) {
  std::lock_guard serial(reload_mu_);
  auto st = current();
  hook_stops_.push_back(start(*st));
  hooks_.push_back(std::move(start));
}

void Runtime::run_hooks(GatewayState& st) {
  for (auto& h : hooks_) {
    hook_stops_.push_back(h(st));
  }
}

void Runtime::stop_hooks() {
  for (auto& stop : hook_stops_) {
    if (stop) {
      stop();
    }
  }
  hook_stops_.clear();
}

ReloadOutcome Runtime::reload(std::string_view trigger) {
  std::lock_guard serial(reload_mu_);
  ReloadOutcome out;
  last_stamp_ = stamp();  // before reading: a write after this point is seen by the next poll
  auto loaded = config_path_.empty()
                    ? config::load_string(config::embedded_default_yaml(), "<embedded default>", env_)
                    : config::load_file(config_path_, env_);
  for (const auto& w : loaded.warnings) {
    out.warnings.push_back(w.to_string());
  }
  for (const auto& e : loaded.errors) {
    out.errors.push_back(e.to_string());
  }
  auto old = current();
  std::shared_ptr<GatewayState> next;
  if (loaded.ok()) {
    std::string error;
    next = make_gateway_state(loaded.config, error, old.get());
    if (!next) {
      out.errors.push_back(loaded.config->source + ": " + error);
    }
  }
  if (!next) {
    reloads_failed_.fetch_add(1, std::memory_order_relaxed);
    reloads_failed_metric_->inc();
    out.generation = generation();
    spdlog::warn("config reload ({}) failed, keeping generation {}: {}", trigger, out.generation,
                 fmt::join(out.errors, "; "));
    return out;
  }
  out.restart_required = settings_requiring_restart(*old->config, *next->config);
  next->router->adopt_health(*old->router);
  admission::Admission::carry_over(*old->admission, *next->admission);  // key budgets, queues, learnt limits
  if (next->config->log_level != old->config->log_level) {
    spdlog::set_level(spdlog::level::from_str(next->config->log_level));
  }
  {
    std::lock_guard lock(mu_);
    current_ = next;
  }
  out.generation = generation_.fetch_add(1, std::memory_order_relaxed) + 1;
  stop_hooks();  // `old` is still held here, so the stopped companions never outlive their state
  run_hooks(*next);
  if (server_) {
    server_->replace_handlers(handler_factory());
  }
  reloads_ok_.fetch_add(1, std::memory_order_relaxed);
  reloads_ok_metric_->inc();
  out.ok = true;
  spdlog::info("config reloaded ({}): generation {}, {} model(s), {} upstream(s)", trigger, out.generation,
               next->config->models.size(), next->config->upstreams.size());
  for (const auto& r : out.restart_required) {
    spdlog::warn("config reload: {}", r);
  }
  return out;
}

std::string Runtime::SideListener::start(std::string_view name, const config::Endpoint& at,
                                        http::HandlerFactory factory) {
  http::ServerOptions opts;
  opts.name = std::string(name);
  opts.host = at.host;
  opts.port = at.port;
  opts.workers = 1;
  opts.drain_timeout = std::chrono::seconds(1);
  server = std::make_unique<http::Server>(opts, std::move(factory));
  if (auto ec = server->listen()) {
    server.reset();
    return fmt::format("cannot listen on {}:{}: {}", opts.host, opts.port, ec.message());
  }
  port = server->port();
  std::cerr << "sluice: " << name << " listening on " << opts.host << ":" << port << std::endl;
  thread = std::thread([this, thread_name = opts.name] {
    name_this_thread(thread_name);
    server->run();
  });
  return {};
}

void Runtime::SideListener::stop() {
  if (server) {
    server->request_stop();
  }
  if (thread.joinable()) {
    thread.join();
  }
  server.reset();
}

std::string Runtime::start(http::Server& server) {
  server_ = &server;
  auto st = current();
  if (const auto& at = st->config->admin.listen) {
    if (auto err = admin_.start("admin", *at, [this](http::Worker&) { return make_admin_handler(*this); });
        !err.empty()) {
      return err + " (admin.listen)";
    }
  }
  if (const auto& at = st->config->metrics.listen) {
    if (auto err = metrics_.start("metrics", *at, [](http::Worker&) { return make_metrics_handler(); });
        !err.empty()) {
      admin_.stop();
      return err + " (metrics.listen)";
    }
  }
  watch_ioc_ = std::make_unique<net::io_context>(1);
  hup_ = std::make_unique<net::signal_set>(*watch_ioc_, SIGHUP);  // from now on SIGHUP no longer kills us
  watch_thread_ = std::thread([this] {
    name_this_thread("sluice-reload");
    watch_loop();
  });
  return {};
}

// SIGHUP and the config file's mtime/size/inode, polled every second (editors that write a temp file and
// rename it change the inode; in-place writes change mtime or size).
void Runtime::watch_loop() {
  auto& hup = *hup_;
  std::function<void(error_code, int)> on_hup = [&](error_code ec, int) {
    if (ec) {
      return;
    }
    reload("SIGHUP");
    hup.async_wait(on_hup);
  };
  hup.async_wait(on_hup);
  net::steady_timer poll{*watch_ioc_};
  std::function<void(error_code)> on_poll = [&](error_code ec) {
    if (ec) {
      return;
    }
    sample_daily_spend();  // takes the day's spend baseline close to midnight
    if (!config_path_.empty()) {
      auto now = stamp();
      bool changed;
      {
        std::lock_guard serial(reload_mu_);
        changed = now.size >= 0 && !(now == last_stamp_);
      }
      if (changed) {
        reload("config file changed");
      }
    }
    poll.expires_after(std::chrono::seconds(1));
    poll.async_wait(on_poll);
  };
  poll.expires_after(std::chrono::seconds(1));
  poll.async_wait(on_poll);
  watch_ioc_->run();
  hup.cancel();
}

void Runtime::stop() {
  if (watch_ioc_) {
    watch_ioc_->stop();
  }
  if (watch_thread_.joinable()) {
    watch_thread_.join();
  }
  admin_.stop();
  metrics_.stop();
  server_ = nullptr;
  std::lock_guard serial(reload_mu_);
  stop_hooks();
}

}  // namespace sluice::gateway
