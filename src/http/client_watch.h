#pragma once
// The one read pending on a client connection. While a request is worked on it notices the client closing, so
// the upstream call can be stopped at once; between requests it is the read that brings the next request.
// One per connection, owned by the Session and lent to each request's Responder.
//
// It keeps a read pending rather than waiting for readability: asio 1.81 re-registers the descriptor with
// epoll (epoll_ctl) for every readiness wait, while a queued read costs nothing more (async_read_ready skips
// the speculative recv once the request's read left the socket empty). The read a request armed stays pending
// after the answer and becomes the next request's read. Bytes it reads are kept (in order) until the session
// takes them; watching a request stops there, as a close behind them cannot be seen.
#include <array>
#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "http/asio.h"
#include "http/ready_read.h"

namespace sluice::http {

class ClientWatch : public std::enable_shared_from_this<ClientWatch> {
 public:
  explicit ClientWatch(tcp::socket& sock) : sock_(sock), reactor_(sock) {}

  // Calls `on_gone` once, on this thread, if the client closes or resets before unwatch(). Replaces an
  // earlier callback. A no-op while disabled, once bytes are pending, or once the client is gone.
  void watch(std::function<void()> on_gone);
  // Stops calling back. The read stays pending: it will bring the next request.
  void unwatch();

  // The session's next read: arms a read unless one is pending or bytes are already here.
  void read_ahead() { arm(); }
  // Cancels a pending read (every operation pending on the socket: call it only when no write is).
  void cancel();
  // For the session's destructor: cancels, and a read still completing never touches the socket again.
  void detach();
  // When the pending read completes (bytes, close, error or cancel), `timer` is cancelled: the session waits
  // on it with its keep-alive timeout. nullptr clears.
  void wake_on_completion(net::steady_timer* timer) { waker_ = timer; }

  // Off while the session holds pipelined bytes it read itself: later bytes must stay behind those.
  void enable(bool on) { enabled_ = on; }
  bool gone() const { return gone_; }
  // A read is still to complete (cancelled or not): the session must not read before it has.
  bool busy() const { return armed_; }
  bool has_pending() const { return !pending_.empty(); }
  // Puts the bytes read ahead in front of what `into` holds.
  void drain_into(beast::flat_buffer& into);

 private:
  void arm();
  void on_read(const error_code& ec, std::size_t n);

  tcp::socket& sock_;
  ReadyReactor reactor_;
  std::function<void()> on_gone_;  // set while a request is watching
  net::steady_timer* waker_ = nullptr;
  bool armed_ = false;  // a read is pending (possibly cancelled, its handler not yet run)
  bool gone_ = false;
  bool enabled_ = true;
  bool detached_ = false;
  std::string pending_;
  std::array<char, 4096> buf_;
};

}  // namespace sluice::http
