#include "http/client_watch.h"

#include "http/ready_read.h"

namespace sluice::http {

// The read's handler. Destroyed without running (the io_context went away with the read pending) it drops the
// session's wait, whose frame owns this watch: nothing else would free them.
struct ClientWatch::ReadDone {
  std::shared_ptr<ClientWatch> self;
  explicit ReadDone(std::shared_ptr<ClientWatch> s) : self(std::move(s)) {}
  ReadDone(ReadDone&&) noexcept = default;  // a moved-from handler has no `self`: it drops nothing
  ReadDone(const ReadDone&) = delete;
  ReadDone& operator=(const ReadDone&) = delete;
  ~ReadDone() {
    if (self) {
      auto dropped = std::move(self->waiter_);
    }
  }
  void operator()(const error_code& ec, std::size_t n) { std::exchange(self, nullptr)->on_read(ec, n); }
};

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
  waiter_ = nullptr;
  cancel();
  if (timer_live_) {
    timer_.cancel();
  }
  detached_ = true;
}

void ClientWatch::arm_deadline(Clock::time_point deadline) {
  deadline_ = deadline;
  if (!timer_live_ || timer_.expiry() > deadline) {
    arm_timer(deadline);
  }
}

void ClientWatch::arm_timer(Clock::time_point at) {
  timer_live_ = true;
  timer_.expires_at(at);  // a wait still pending completes as aborted, with a stale generation
  timer_.async_wait(
      [self = shared_from_this(), g = ++timer_generation_](const error_code& ec) { self->on_timer(ec, g); });
}

void ClientWatch::on_timer(const error_code& ec, std::uint64_t generation) {
  if (generation != timer_generation_) {
    return;  // superseded by a re-arm
  }
  timer_live_ = false;
  if (ec || detached_ || !waiter_) {
    return;  // cancelled, or no wait: the next one arms it again
  }
  if (Clock::now() < deadline_) {
    arm_timer(deadline_);  // armed for an earlier wait's deadline
    return;
  }
  send_wake(net::error::timed_out);
}

// Resumes the session here, on this thread, as a dispatch would: it may run its next request before this
// returns, so callers touch nothing after it.
void ClientWatch::send_wake(error_code ec) {
  if (auto h = std::move(waiter_)) {
    std::move(h)(ec);
  }
}

void ClientWatch::drain_into(beast::flat_buffer& into) {
  if (buffered_ == 0) {
    return;
  }
  std::string behind;
  if (into.size() > 0) {  // rare: the session read on its own behind bytes of ours
    behind.assign(buffer_view(into));
    into.consume(into.size());
  }
  into.commit(net::buffer_copy(into.prepare(buffered_ + behind.size()), net::buffer(buf_.get(), buffered_)));
  into.commit(net::buffer_copy(into.prepare(behind.size()), net::buffer(behind)));
  buffered_ = 0;
  buf_.reset();
}

net::mutable_buffer ClientWatch::take() {
  if (!buf_) {
    buf_.reset(new char[kReadBytes]);
  }
  return net::buffer(buf_.get(), kReadBytes);
}

void ClientWatch::give_back() noexcept {
  if (buffered_ == 0) {
    buf_.reset();
  }
}

void ClientWatch::arm() {
  if (armed_ || detached_ || gone_ || buffered_ > 0 || !sock_.is_open()) {
    return;
  }
  armed_ = true;
  // The handler owns a reference: it may run after the request (and the session) is over.
  async_read_ready(sock_, reactor_, static_cast<ReadSpace&>(*this), ReadDone{shared_from_this()});
}

void ClientWatch::on_read(const error_code& ec, std::size_t n) {
  armed_ = false;
  if (n == 0) {
    buf_.reset();  // nothing came (close, error or cancel): no buffer is kept
  }
  if (n > 0) {
    buffered_ = n;  // the next request (pipelined, or after the answer): stop watching
  } else if (ec && ec != net::error::operation_aborted) {
    gone_ = true;  // eof, reset or another socket error: no further request comes
    // Nobody reads an answer any more, unless it was a half-close the config lets finish (the answer is
    // written, then the connection closes).
    const bool half_close = ec == net::error::eof && finish_on_half_close_;
    if (on_gone_ && !half_close) {  // a request is watching
      auto cb = std::exchange(on_gone_, nullptr);
      cb();
    }
  }
  send_wake({});
}

}  // namespace sluice::http
