#pragma once
// Notices a client closing its connection while its request is being worked on, so the upstream call can be
// stopped at once. One per connection, owned by the Session and lent to each request's Responder.
//
// It keeps a read pending on the client socket rather than waiting for readability: asio 1.81 re-registers
// the descriptor with epoll (epoll_ctl) for every readiness wait, while a read costs one non-blocking recv
// that finds nothing (cheaper in the profile) before it is queued. Bytes that arrive meanwhile (a pipelined
// next request) are kept in order and handed back to the session with take_pending(); watching stops there,
// as a close behind them cannot be seen.
#include <array>
#include <functional>
#include <memory>
#include <string>

#include "http/asio.h"

namespace sluice::http {

class ClientWatch : public std::enable_shared_from_this<ClientWatch> {
 public:
  explicit ClientWatch(tcp::socket& sock) : sock_(sock) {}

  // Calls `on_gone` once, on this thread, if the client closes or resets before unwatch(). Replaces an earlier
  // callback. A no-op once bytes are pending or the client is gone.
  void watch(std::function<void()> on_gone);
  // Stops calling back. Cancels every operation pending on the socket: call it only when no write is pending.
  void unwatch();

  // Off while the session holds pipelined bytes it read itself: later bytes must stay behind those.
  void enable(bool on) { enabled_ = on; }
  bool gone() const { return gone_; }
  // A watch read is still to complete (cancelled or not): the session must not read before it has.
  bool busy() const { return armed_; }
  // Bytes the watch read ahead of the session; the caller puts them in front of anything it reads later.
  std::string take_pending() { return std::exchange(pending_, {}); }
  bool has_pending() const { return !pending_.empty(); }

 private:
  void arm();
  void on_read(const error_code& ec, std::size_t n);

  tcp::socket& sock_;
  std::function<void()> on_gone_;
  bool wanted_ = false;  // a request is watching
  bool armed_ = false;   // a read is pending (possibly cancelled, its handler not yet run)
  bool gone_ = false;
  bool enabled_ = true;
  std::string pending_;
  std::array<char, 1024> buf_;
};

}  // namespace sluice::http
