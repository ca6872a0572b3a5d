#pragma once
// One connection to Redis on one executor (a worker's io_context or the state thread's): TCP or TLS, AUTH and
// SELECT and any setup commands on connect, then commands pipelined (what is queued while a write is in
// flight goes out with the next write) and replies matched in order. A command still unanswered at its
// deadline fails the connection: with pipelining a late reply would reach the wrong caller, so the connection
// is closed and everything pending fails with it (the client reconnects). Single-threaded: every call on the
// executor's thread; completions are posted, never run inside a call.
#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/ssl.hpp>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "http/asio.h"
#include "state/redis/resp.h"

namespace sluice::state::redis {

namespace ssl = boost::asio::ssl;
using Clock = std::chrono::steady_clock;
using Replies = std::vector<Reply>;
using ExecHandler = net::any_completion_handler<void(error_code, Replies)>;

struct ConnectOptions {
  std::string host;
  std::uint16_t port = 6379;
  std::string username;
  std::string password;  // empty = no AUTH
  std::uint32_t database = 0;
  ssl::context* tls = nullptr;  // null = plain TCP
  std::string server_name;      // SNI / certificate name (TLS)
  bool verify = true;           // check the certificate's name (the context holds the CAs and the mode)
  std::chrono::milliseconds connect_timeout{250};
  std::vector<Command> setup;  // run after AUTH/SELECT (SCRIPT LOAD ...); an error reply fails the connect
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  enum class State : std::uint8_t { kIdle, kConnecting, kReady, kClosed };

  explicit Connection(net::any_io_executor ex);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  State state() const { return state_; }
  const net::any_io_executor& executor() const { return ex_; }

  // Resolves, connects, handshakes (TLS), authenticates and runs the setup commands within connect_timeout.
  // `done` gets the first error, or success with the setup commands' replies.
  void connect(ConnectOptions opts, std::function<void(error_code, Replies)> done);

  // Queues `count` encoded commands (`bytes`, back to back) and completes `done` with their replies in order, or
  // with an error (timeout, connection lost). An empty `done` discards the replies. Only when ready.
  void exec(std::string bytes, std::size_t count, Clock::time_point deadline, ExecHandler done);

  template <class Token>
  auto async_exec(std::string bytes, std::size_t count, Clock::time_point deadline, Token&& token) {
    return net::async_initiate<Token, void(error_code, Replies)>(
        [this](auto handler, std::string b, std::size_t n, Clock::time_point d) {
          exec(std::move(b), n, d, ExecHandler(std::move(handler)));
        },
        token, std::move(bytes), count, deadline);
  }

  // Fails everything pending with `why` and closes the socket. Idempotent.
  void close(error_code why);
  // Called once when the connection closes (after connect succeeded or failed).
  void on_close(std::function<void(error_code)> f) { on_close_ = std::move(f); }
  // Replies nobody asked for (a subscribed connection's messages) go here instead of failing the connection.
  void on_push(std::function<void(Reply)> f) { on_push_ = std::move(f); }
  std::size_t pending() const { return pending_.size(); }

 private:
  struct Pending {
    std::size_t count = 0;
    Replies replies;
    ExecHandler done;
    Clock::time_point deadline;
  };
  net::awaitable<void> run_connect(ConnectOptions opts, std::function<void(error_code, Replies)> done);
  net::awaitable<void> read_loop();
  net::awaitable<void> write_loop();
  net::awaitable<void> watchdog();
  void deliver(Reply r);
  void complete(ExecHandler h, error_code ec, Replies r);
  void enqueue(std::string bytes, std::size_t count, Clock::time_point deadline, ExecHandler done);

  net::any_io_executor ex_;
  State state_ = State::kIdle;
  tcp::socket socket_;
  std::optional<ssl::stream<tcp::socket&>> tls_;
  net::steady_timer timer_;
  Parser parser_;
  std::deque<Pending> pending_;
  std::string out_;
  bool writing_ = false;
  std::function<void(error_code)> on_close_;
  std::function<void(Reply)> on_push_;
};

}  // namespace sluice::state::redis
