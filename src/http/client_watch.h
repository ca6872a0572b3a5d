#pragma once
// The one read pending on a client connection. While a request is worked on it notices the client closing, so
// the upstream call can be stopped at once; between requests it is the read that brings the next request.
// One per connection, owned by the Session and lent to each request's Responder.
//
// It keeps a read pending rather than waiting for readability: asio 1.81 re-registers the descriptor with
// epoll (epoll_ctl) for every readiness wait, while a queued read costs nothing more (async_read_ready skips
// the speculative recv once the request's read left the socket empty). The read a request armed stays pending
// after the answer and becomes the next request's read. Bytes it reads are kept (in order) until the session
// takes them; watching a request stops there, as a close behind them cannot be seen. Its buffer is taken
// when bytes arrive and freed when the session takes them (ReadSpace): a connection whose request waits for
// an upstream, or that idles between requests, holds none.
//
// The session's wait for its next request completes from the read's completion. Its deadline is lazy (as
// nginx's): one timer per connection, re-armed only when it fires before the deadline of the latest wait, so
// a request costs no timer insertion and removal. The wait's handler, kept here, owns the session's frame,
// which owns this watch: a cycle. The read's handler breaks it when the io_context is destroyed with the
// read pending (the only time a wait can be pending): destroyed without running, it drops the wait.
#include <boost/asio/any_completion_handler.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "http/asio.h"
#include "http/ready_read.h"

namespace sluice::http {

class ClientWatch final : public std::enable_shared_from_this<ClientWatch>, private ReadSpace {
 public:
  using Clock = std::chrono::steady_clock;

  // `finish_on_half_close`: a FIN while a request is watched does not call its on_gone (a reset still does).
  explicit ClientWatch(tcp::socket& sock, bool finish_on_half_close = false)
      : sock_(sock), reactor_(sock), timer_(sock.get_executor()), finish_on_half_close_(finish_on_half_close) {}

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
  // The session's wait for the pending read (call it only while busy()): completes with an empty error_code
  // when the read completed (bytes, close, error or cancel), with net::error::timed_out when `deadline`
  // passed first. The read stays pending then.
  template <class Token>
  auto async_wait_read(Clock::time_point deadline, Token&& token) {
    return net::async_initiate<Token, void(error_code)>(
        [this](auto handler, Clock::time_point at) {
          // Not `waiter_ = ...`: asio 1.81's move assignment wraps the handler in itself, endlessly.
          net::any_completion_handler<void(error_code)> h(std::move(handler));
          waiter_.swap(h);
          arm_deadline(at);
        },
        token, deadline);
  }

  // Off while the session holds pipelined bytes it read itself: later bytes must stay behind those.
  void enable(bool on) { enabled_ = on; }
  bool gone() const { return gone_; }
  // A read is still to complete (cancelled or not): the session must not read before it has.
  bool busy() const { return armed_; }
  bool has_pending() const { return buffered_ > 0; }
  // A read buffer is allocated (a read is running, or bytes wait for the session).
  bool holds_buffer() const { return buf_ != nullptr; }
  // Puts the bytes read ahead in front of what `into` holds.
  void drain_into(beast::flat_buffer& into);

 private:
  void arm();
  void on_read(const error_code& ec, std::size_t n);
  struct ReadDone;
  void arm_deadline(Clock::time_point deadline);
  void arm_timer(Clock::time_point at);
  void on_timer(const error_code& ec, std::uint64_t generation);
  void send_wake(error_code ec);
  net::mutable_buffer take() override;
  void give_back() noexcept override;

  tcp::socket& sock_;
  ReadyReactor reactor_;
  std::function<void()> on_gone_;  // set while a request is watching
  net::any_completion_handler<void(error_code)> waiter_;  // the session's wait, while it waits
  net::steady_timer timer_;                               // the lazy deadline of the session's wait
  Clock::time_point deadline_{};                          // of the current (or last) wait
  std::uint64_t timer_generation_ = 0;  // a re-armed timer's superseded wait completes with an older one
  bool timer_live_ = false;             // a wait for timer_.expiry() is pending
  bool armed_ = false;  // a read is pending (possibly cancelled, its handler not yet run)
  bool gone_ = false;
  bool enabled_ = true;
  bool detached_ = false;
  bool finish_on_half_close_;
  static constexpr std::size_t kReadBytes = 4096;
  std::unique_ptr<char[]> buf_;  // kReadBytes while a read runs or bytes wait for the session
  std::size_t buffered_ = 0;     // bytes read, not yet taken by the session
};

}  // namespace sluice::http
