#include "http/server.h"

#include <spdlog/spdlog.h>

#include <boost/asio/signal_set.hpp>

#include "common/strings.h"
#include "common/thread_name.h"
#include "http/ready_read.h"
#include "http/session.h"

namespace sluice::http {

namespace {
// SO_REUSEPORT as a SettableSocketOption (asio has no public one).
class reuse_port {
 public:
  explicit reuse_port(bool on) : value_(on ? 1 : 0) {}
  template <class Protocol>
  int level(const Protocol&) const {
    return SOL_SOCKET;
  }
  template <class Protocol>
  int name(const Protocol&) const {
    return SO_REUSEPORT;
  }
  template <class Protocol>
  const int* data(const Protocol&) const {
    return &value_;
  }
  template <class Protocol>
  std::size_t size(const Protocol&) const {
    return sizeof value_;
  }

 private:
  int value_;
};

// Every worker listens on the same port (SO_REUSEPORT); the kernel spreads new connections across them.
error_code open_acceptor(tcp::acceptor& acc, const tcp::endpoint& ep) {
  error_code ec;
  acc.open(ep.protocol(), ec);
  if (!ec) {
    acc.set_option(net::socket_base::reuse_address(true), ec);
  }
  if (!ec) {
    acc.set_option(reuse_port(true), ec);
  }
  if (!ec) {
    acc.bind(ep, ec);
  }
  if (!ec) {
    acc.listen(net::socket_base::max_listen_connections, ec);
  }
  return ec;
}

void log_exception(std::string_view what, std::exception_ptr e) {
  if (!e) {
    return;
  }
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    spdlog::error("{}: unexpected exception: {}", what, ex.what());
  } catch (...) {
    spdlog::error("{}: unexpected exception", what);
  }
}
}  // namespace

net::awaitable<void> Worker::accept_loop() {
  for (;;) {
    auto [ec, socket] = co_await acceptor_->async_accept(use_tuple);
    if (ec == net::error::operation_aborted || !acceptor_->is_open()) {
      co_return;
    }
    if (ec) {
      // EMFILE and friends: back off briefly instead of spinning.
      spdlog::warn("{}: accept failed: {}", opts_.name, ec.message());
      net::steady_timer t{ioc_, std::chrono::milliseconds(20)};
      co_await t.async_wait(use_tuple);
      continue;
    }
    socket.set_option(tcp::no_delay(true), ec);
    enable_read_ready(socket);  // the client watch's reads (http/ready_read.h)
    net::co_spawn(ioc_, session(std::move(socket)),
                  [name = opts_.name](std::exception_ptr e) { log_exception(name + " session", e); });
  }
}

net::awaitable<void> Worker::session(tcp::socket socket) {
  Session s{*this, std::move(socket)};
  co_await s.run();
}

void Worker::set_accepting(bool on, const tcp::endpoint& ep) {
  if (draining_ || on == (acceptor_ && acceptor_->is_open())) {
    return;
  }
  error_code ec;
  if (!on) {
    acceptor_->close(ec);  // the kernel now refuses new connections (RST to SYN) once every worker closed
    return;
  }
  auto acc = std::make_unique<tcp::acceptor>(ioc_);
  ec = open_acceptor(*acc, ep);
  if (ec) {
    spdlog::error("{}: cannot resume accepting on port {}: {}", opts_.name, ep.port(), ec.message());
    return;
  }
  acceptor_ = std::move(acc);
  net::co_spawn(ioc_, accept_loop(), [name = opts_.name](std::exception_ptr e) { log_exception(name + " accept", e); });
}

void Worker::begin_shutdown() {
  shutting_down_ = true;  // readiness fails from now on (the handler reads it); accepting goes on
}

void Worker::begin_drain() {
  draining_ = true;
  shutting_down_ = true;
  if (acceptor_) {
    error_code ec;
    acceptor_->close(ec);
  }
  if (handler_) {
    handler_->on_drain();
  }
  close_idle_sessions(*this);
}

std::size_t body_limit(const ServerOptions& opts, const Request& req) {
  if (opts.upload_paths.empty() || opts.max_upload_bytes == 0 || req.method() != bhttp::verb::post) {
    return opts.max_body_bytes;
  }
  const std::string_view path = strip_query(req.target());
  for (const auto& p : opts.upload_paths) {
    if (path == p) {
      return opts.max_upload_bytes;
    }
  }
  return opts.max_body_bytes;
}

Server::Server(ServerOptions opts, HandlerFactory factory)
    : opts_(std::move(opts)), factory_(std::move(factory)) {
  if (opts_.workers == 0) {
    opts_.workers = std::max(1u, std::thread::hardware_concurrency());
  }
}

Server::~Server() = default;

error_code Server::listen() {
  error_code ec;
  auto addr = net::ip::make_address(opts_.host, ec);
  if (ec) {
    return ec;
  }
  uint16_t port = opts_.port;
  for (unsigned i = 0; i < opts_.workers; ++i) {
    auto w = std::make_unique<Worker>(i, opts_);
    auto acc = std::make_unique<tcp::acceptor>(w->ioc());
    tcp::endpoint ep{addr, port};
    ec = open_acceptor(*acc, ep);
    if (ec) {
      workers_.clear();
      return ec;
    }
    port = acc->local_endpoint().port();
    w->acceptor_ = std::move(acc);
    workers_.push_back(std::move(w));
  }
  port_ = port;
  signals_.emplace(main_ioc_, SIGINT, SIGTERM);
  return {};
}

void Server::set_accepting(bool on) {
  error_code ec;
  tcp::endpoint ep{net::ip::make_address(opts_.host, ec), port_};
  for (auto& w : workers_) {
    net::post(w->ioc(), [wp = w.get(), on, ep] { wp->set_accepting(on, ep); });
  }
}

void Server::request_stop() {
  net::post(main_ioc_, [this] {
    if (stop_hook_) {
      stop_hook_();
    }
  });
}

void Server::replace_handlers(HandlerFactory factory) {
  auto shared = std::make_shared<HandlerFactory>(std::move(factory));
  for (auto& w : workers_) {
    net::post(w->ioc(), [wp = w.get(), shared] {
      if (wp->draining_) {
        return;
      }
      std::shared_ptr<Handler> next = (*shared)(*wp);
      wp->handler_.swap(next);  // the old one dies here or with its last request
    });
  }
}

std::size_t Server::run() {
  for (auto& w : workers_) {
    w->handler_ = factory_(*w);
    net::co_spawn(w->ioc(), w->accept_loop(),
                  [name = opts_.name](std::exception_ptr e) { log_exception(name + " accept", e); });
  }
  std::vector<std::thread> threads;
  for (auto& w : workers_) {
    threads.emplace_back([&w, name = opts_.name] {
      name_this_thread(fmt::format("{}-{}", name, w->index()));
      for (;;) {
        try {
          w->ioc().run();
          return;
        } catch (const std::exception& e) {
          spdlog::error("{} worker {}: {}", name, w->index(), e.what());
        }
      }
    });
  }

  std::size_t cut = 0;
  if (!signals_) {
    return 0;  // listen() failed or was not called
  }
  auto& signals = *signals_;
  bool draining = false;
  bool drained = false;  // the signal handler must not re-arm once the drain finished, or run() never returns
  auto deadline = std::chrono::steady_clock::now();
  net::steady_timer poll{main_ioc_};
  auto active = [&] {
    std::size_t n = 0;
    for (auto& w : workers_) {
      n += w->active_sessions();
    }
    return n;
  };
  std::function<void()> poll_drain = [&] {
    std::size_t n = active();
    if (n == 0 || std::chrono::steady_clock::now() >= deadline) {
      cut = n;
      for (auto& w : workers_) {
        net::post(w->ioc(), [wp = w.get()] { close_all_sessions(*wp); });
      }
      drained = true;
      signals.cancel();
      return;
    }
    poll.expires_after(std::chrono::milliseconds(20));
    poll.async_wait([&](error_code ec) {
      if (!ec) {
        poll_drain();
      }
    });
  };
  std::function<void(int)> drain_now = [&](int sig) {
    spdlog::info("{}: signal {}, draining {} connection(s) for up to {} ms", opts_.name, sig, active(),
                 opts_.drain_timeout.count());
    deadline = std::chrono::steady_clock::now() + opts_.drain_timeout;
    for (auto& w : workers_) {
      net::post(w->ioc(), [wp = w.get()] { wp->begin_drain(); });
    }
    poll_drain();
  };
  net::steady_timer delay{main_ioc_};
  bool delaying = false;
  std::function<void(int)> start_drain = [&](int sig) {
    if (delaying) {  // a second signal skips the rest of the delay and the drain
      spdlog::warn("{}: second signal {}, closing now", opts_.name, sig);
      delaying = false;
      delay.cancel();
      drain_now(sig);
      deadline = std::chrono::steady_clock::now();
    } else if (draining) {
      spdlog::warn("{}: second signal {}, closing now", opts_.name, sig);
      deadline = std::chrono::steady_clock::now();
    } else if (opts_.shutdown_delay.count() > 0) {
      draining = true;
      delaying = true;
      spdlog::info("{}: signal {}, not ready; still serving for {} ms before draining", opts_.name, sig,
                   opts_.shutdown_delay.count());
      for (auto& w : workers_) {
        net::post(w->ioc(), [wp = w.get()] { wp->begin_shutdown(); });
      }
      delay.expires_after(opts_.shutdown_delay);
      delay.async_wait([&, sig](error_code ec) {
        if (!ec && delaying) {
          delaying = false;
          drain_now(sig);
        }
      });
    } else {
      draining = true;
      drain_now(sig);
    }
  };
  std::function<void(error_code, int)> on_signal = [&](error_code ec, int sig) {
    if (ec) {
      return;
    }
    start_drain(sig);
    if (!drained) {
      signals.async_wait(on_signal);
    }
  };
  signals.async_wait(on_signal);
  stop_hook_ = [&] {
    if (!draining) {
      start_drain(SIGTERM);
    }
  };
  main_ioc_.run();
  stop_hook_ = nullptr;

  // Sessions were closed; give their coroutines a moment to unwind, then stop whatever remains.
  auto stop_at = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  for (auto& w : workers_) {
    while (!w->ioc().stopped() && std::chrono::steady_clock::now() < stop_at) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    w->ioc().stop();
  }
  for (auto& t : threads) {
    t.join();
  }
  spdlog::info("{}: stopped ({} request(s) cut by the drain deadline)", opts_.name, cut);
  return cut;
}

}  // namespace sluice::http
