#include "http/client_watch.h"

namespace sluice::http {

void ClientWatch::watch(std::function<void()> on_gone) {
  if (!enabled_) {
    return;
  }
  on_gone_ = std::move(on_gone);
  wanted_ = true;
  if (!armed_) {
    arm();  // when a cancelled read is still completing, its handler re-arms
  }
}

void ClientWatch::unwatch() {
  wanted_ = false;
  on_gone_ = nullptr;
  if (armed_) {
    error_code ec;
    sock_.cancel(ec);
  }
}

void ClientWatch::arm() {
  if (gone_ || !pending_.empty() || !sock_.is_open()) {
    return;
  }
  armed_ = true;
  // The handler owns a reference: it may run after the request (and the session) is over.
  sock_.async_read_some(net::buffer(buf_), [self = shared_from_this()](error_code ec, std::size_t n) {
    self->on_read(ec, n);
  });
}

void ClientWatch::on_read(const error_code& ec, std::size_t n) {
  armed_ = false;
  if (n > 0) {
    pending_.append(buf_.data(), n);  // a pipelined request: keep it, stop watching
    return;
  }
  if (ec == net::error::operation_aborted) {
    if (wanted_) {
      arm();  // unwatched and watched again before this cancelled read completed
    }
    return;
  }
  if (!ec) {
    arm();
    return;
  }
  gone_ = true;  // eof, reset or another socket error: nobody reads the answer any more
  if (wanted_ && on_gone_) {
    wanted_ = false;
    auto cb = std::move(on_gone_);
    cb();
  }
}

}  // namespace sluice::http
