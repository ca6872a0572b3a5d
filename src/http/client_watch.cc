#include "http/client_watch.h"

#include "http/ready_read.h"

namespace sluice::http {

void ClientWatch::watch(std::function<void()> on_gone) {
  if (!enabled_) {
    return;
  }
  on_gone_ = std::move(on_gone);
  arm();
}

void ClientWatch::unwatch() { on_gone_ = nullptr; }

void ClientWatch::cancel() {
  if (armed_) {
    error_code ec;
    sock_.cancel(ec);
  }
}

void ClientWatch::detach() {
  unwatch();
  waker_ = nullptr;
  cancel();
  detached_ = true;
}

void ClientWatch::drain_into(beast::flat_buffer& into) {
  if (pending_.empty()) {
    return;
  }
  if (into.size() > 0) {  // rare: the session read on its own behind bytes of ours
    pending_.append(buffer_view(into));
    into.consume(into.size());
  }
  into.commit(net::buffer_copy(into.prepare(pending_.size()), net::buffer(pending_)));
  pending_.clear();  // keeps its capacity for the next request
}

void ClientWatch::arm() {
  if (armed_ || detached_ || gone_ || !pending_.empty() || !sock_.is_open()) {
    return;
  }
  armed_ = true;
  // The handler owns a reference: it may run after the request (and the session) is over.
  async_read_ready(sock_, reactor_, net::buffer(buf_),
                   [self = shared_from_this()](error_code ec, std::size_t n) { self->on_read(ec, n); });
}

void ClientWatch::on_read(const error_code& ec, std::size_t n) {
  armed_ = false;
  if (n > 0) {
    pending_.append(buf_.data(), n);  // the next request (pipelined, or after the answer): stop watching
  } else if (ec && ec != net::error::operation_aborted) {
    gone_ = true;    // eof, reset or another socket error: nobody reads an answer any more
    if (on_gone_) {  // a request is watching
      auto cb = std::exchange(on_gone_, nullptr);
      cb();
    }
  }
  if (auto* t = std::exchange(waker_, nullptr)) {
    t->cancel();
  }
}

}  // namespace sluice::http
