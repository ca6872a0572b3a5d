#pragma once
// A Redis client for one executor (share-nothing: each worker thread has its own, found through an io_context
// service; the state thread has another): `pool_size` pipelined connections, the circuit breaker, reconnects in
// the background, and EVALSHA with a fallback to EVAL when Redis lost its scripts (NOSCRIPT).
//
// A call never waits longer than the configured timeout: when no connection is ready it fails at once (and a
// connect starts in the background, when the breaker allows), so a request that needs Redis is delayed by at
// most one timeout while Redis is slow, and not at all while it is known to be down.
#include <memory>
#include <tuple>
#include <vector>

#include "state/redis/breaker.h"
#include "state/redis/connection.h"
#include "telemetry/metrics.h"

namespace sluice::state::redis {

// What every client of one backend shares (immutable once built).
struct ClientSetup {
  ConnectOptions connect;  // setup includes SCRIPT LOAD of every script
  std::unique_ptr<ssl::context> tls;
  std::chrono::milliseconds timeout{20};
  std::uint32_t pool_size = 1;
  Breaker::Settings breaker;
  // sluice_state_errors_total{kind}, sluice_state_round_trips_total
  telemetry::Counter* err_timeout = nullptr;
  telemetry::Counter* err_connection = nullptr;
  telemetry::Counter* err_unavailable = nullptr;  // refused at once: breaker open or not connected
  telemetry::Counter* err_reply = nullptr;        // Redis answered with an error
  telemetry::Counter* round_trips = nullptr;
};

enum class CallError : std::uint8_t { kNone, kUnavailable, kTimeout, kConnection };

struct CallResult {
  CallError error = CallError::kNone;
  Replies replies;  // one per command, in order (a reply may itself be a Redis error)
  bool ok() const { return error == CallError::kNone; }
};

class Client : public std::enable_shared_from_this<Client> {
 public:
  Client(net::any_io_executor ex, std::shared_ptr<const ClientSetup> setup);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Runs `cmds` in one pipelined round trip.
  net::awaitable<CallResult> call(std::vector<Command> cmds);
  // Same, without waiting for the answer (errors are counted only).
  void send(std::vector<Command> cmds);
  // A connection is ready and the breaker closed: a call now would go out.
  bool ready() const;
  // Starts connecting when nothing is connected (and the breaker allows it).
  void warm_up();
  void close();
  const net::any_io_executor& executor() const { return ex_; }

 private:
  std::shared_ptr<Connection> pick();  // a ready connection, or null (starting a connect when allowed)
  net::awaitable<std::shared_ptr<Connection>> wait_ready(Clock::time_point deadline);
  void start_connect(std::size_t slot);
  std::int64_t now_ns() const;

  net::any_io_executor ex_;
  std::shared_ptr<const ClientSetup> setup_;
  std::vector<std::shared_ptr<Connection>> conns_;
  std::size_t next_ = 0;
  Breaker breaker_;
  bool closed_ = false;
};

// The calling io_context's client of `setup` (made on first use; closed when the io_context shuts down, or at
// the next lookup after its setup is gone).
std::shared_ptr<Client> client_for(const net::any_io_executor& ex, const std::shared_ptr<const ClientSetup>& setup);

}  // namespace sluice::state::redis
