#pragma once
// A multi-threaded HTTP/1.1 server: one io_context per worker thread, each with its own SO_REUSEPORT
// acceptor, so connections and everything they touch stay on one thread (share-nothing, like Envoy workers).
#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "http/asio.h"
#include "http/responder.h"

namespace sluice::http {

struct ServerOptions {
  std::string name = "sluice";  // for logs
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  unsigned workers = 1;
  std::size_t max_body_bytes = 4 * 1024 * 1024;
  // POSTs to these paths (query string ignored) may carry up to max_upload_bytes instead of max_body_bytes
  // (file uploads; 0 = no separate limit).
  std::vector<std::string> upload_paths;
  std::size_t max_upload_bytes = 0;
  std::size_t max_header_bytes = 16 * 1024;
  std::chrono::milliseconds header_timeout{10'000};
  std::chrono::milliseconds body_timeout{30'000};
  std::chrono::milliseconds keepalive_timeout{60'000};
  std::chrono::milliseconds write_timeout{30'000};
  std::chrono::milliseconds drain_timeout{30'000};
  bool finish_on_half_close = false;  // a FIN after a whole request: answer it (true) or cancel it
  // SIGTERM first only marks the server as shutting down (readiness fails, answers say Connection: close)
  // and keeps accepting for this long, so load balancers take it out before it stops listening.
  std::chrono::milliseconds shutdown_delay{0};
};

// The body limit of one request: max_upload_bytes for a POST to an upload path, else max_body_bytes.
std::size_t body_limit(const ServerOptions& opts, const Request& req);

class Worker;

// One instance per worker thread; called only from that thread.
class Handler {
 public:
  virtual ~Handler() = default;
  virtual net::awaitable<void> handle(Request& req, Responder& res) = 0;
  // Called on the worker thread when draining starts (stop background work, close idle pools).
  virtual void on_drain() {}
};

using HandlerFactory = std::function<std::unique_ptr<Handler>(Worker&)>;

struct SessionEntry;

class Worker {
 public:
  // Sockets of a worker are only touched on its thread (other threads post to it), so asio's per-socket
  // locks are not needed; the scheduler stays thread-safe for those posts.
  Worker(unsigned index, const ServerOptions& opts)
      : index_(index), opts_(opts), ioc_(BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO) {}
  ~Worker() {
    handler_.reset();
    acceptor_.reset();
  }
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;
  unsigned index() const { return index_; }
  net::io_context& ioc() { return ioc_; }
  const ServerOptions& options() const { return opts_; }
  const bool& draining() const { return draining_; }
  // From the first SIGTERM on (shutdown delay and drain): not ready for new work.
  const bool& shutting_down() const { return shutting_down_; }
  std::size_t active_sessions() const { return active_.load(std::memory_order_relaxed); }

 private:
  friend class Server;
  friend class Session;
  friend void close_idle_sessions(Worker&);
  friend void close_all_sessions(Worker&);
  net::awaitable<void> accept_loop();
  void set_accepting(bool on, const tcp::endpoint& ep);
  net::awaitable<void> session(tcp::socket socket);
  void begin_drain();
  void begin_shutdown();

  unsigned index_;
  const ServerOptions& opts_;
  bool draining_ = false;
  bool shutting_down_ = false;
  std::atomic<std::size_t> active_{0};
  SessionEntry* sessions_ = nullptr;  // intrusive list, owned by the worker thread
  // Destruction order matters: ~Worker resets handler_ and acceptor_ (their sockets need a live io_context),
  // then ioc_ destroys leftover coroutine frames, whose Session destructors still touch sessions_ and active_.
  net::io_context ioc_;
  std::unique_ptr<tcp::acceptor> acceptor_;
  // Shared so each request pins the generation it started with: a hot reload swaps this pointer for new
  // requests while old ones finish on the handler (and state) they began with.
  std::shared_ptr<Handler> handler_;
};

class Server {
 public:
  Server(ServerOptions opts, HandlerFactory factory);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds every worker's acceptor (port 0 picks a free port shared by all workers) and takes over SIGINT and
  // SIGTERM, so a signal that arrives right after the caller prints its "listening" line starts a drain.
  error_code listen();
  uint16_t port() const { return port_; }
  const ServerOptions& options() const { return opts_; }

  // Stops or restarts accepting on every worker (thread-safe; the sim uses it to make its port refuse
  // connections during an outage). Established connections are not touched.
  void set_accepting(bool on);

  // Hot reload: builds a new handler on each worker thread (via `factory`) for requests that start from now
  // on. Requests in flight keep the handler they started with. Thread-safe; no-op once draining.
  void replace_handlers(HandlerFactory factory);

  // Runs until SIGINT/SIGTERM, then (after shutdown_delay) drains: stops accepting, lets in-flight requests
  // finish up to drain_timeout, then closes everything. Returns the number of connections cut by the drain
  // deadline.
  std::size_t run();
  // Starts the same drain a SIGTERM would (thread-safe; also before run(), which then drains at once).
  void request_stop();

 private:
  std::function<void()> stop_hook_;  // set by run(); only touched on main_ioc_
  ServerOptions opts_;
  HandlerFactory factory_;
  uint16_t port_ = 0;
  std::vector<std::unique_ptr<Worker>> workers_;
  net::io_context main_ioc_{1};
  std::optional<net::signal_set> signals_;
};

}  // namespace sluice::http
