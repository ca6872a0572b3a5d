#pragma once
// async_read_ready: a socket read that skips the syscall asio would waste on a socket known to be empty.
//
// asio's reactor tries every new read at once ("speculatively") and only then waits for epoll. On a
// request/response connection that first recv almost always fails with EAGAIN: after sending a request
// the answer cannot be there yet. That is one wasted syscall per read, two per proxied request.
//
// asio already has the flag to skip it: a read that reports "done_and_exhausted" clears the descriptor's
// speculative flag until the next epoll event sets it again (epoll is edge-triggered). This op reports it
// after a short read that provably left nothing behind (nginx's `ready` flag works the same way):
//   - no data: the read was shorter than the buffer and TCP_INQ (enable_read_ready) says 0 bytes remain;
//   - no FIN: TCP_INQ reports 1 while a FIN is queued;
//   - no reset: the descriptor's last epoll events carry no EPOLLERR/EPOLLHUP. A reset queued behind data
//     (data and RST in one epoll batch) is otherwise invisible until the next recv.
// Anything unknown (no TCP_INQ answer) keeps asio's behaviour. The flag is cleared and set only inside the
// reactor under the descriptor's lock, so no readiness event can be lost.
//
// Built on asio's reactor internals (Boost 1.81, epoll); the static_assert below marks the coupling. Included only
// through http/ready_read.h, which builds the portable fallback instead on any other Boost (or when
// SLUICE_PORTABLE_IO is forced).
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <boost/version.hpp>
#include <cerrno>
#include <cstring>
#include <memory>
#include <type_traits>
#include <utility>

#include "http/asio.h"

static_assert(BOOST_VERSION / 100 == 1081,
              "http/ready_read.h mirrors asio 1.81's reactive receive op; re-check it");

namespace sluice::http {
namespace ready_read_detail {

namespace ad = boost::asio::detail;

// basic_socket keeps its service implementation (fd, state, reactor slot) protected.
struct SocketAccess : tcp::socket {
  static auto& impl(tcp::socket& s) { return (s.*(&SocketAccess::impl_)).get_implementation(); }
};

using DescriptorState = std::remove_pointer_t<ad::reactor::per_descriptor_data>;

// The epoll events of the descriptor's latest readiness batch (asio keeps them in the operation base it
// queues the descriptor with). The C-style cast reaches a private base, which the language allows.
struct LastEvents : ad::scheduler_operation {
  static unsigned of(DescriptorState* d) {
    return ((ad::scheduler_operation*)d)->*(&LastEvents::task_result_);
  }
};

// Bytes left in the receive queue after a recvmsg (TCP_CM_INQ; 1 while a FIN is queued), or -1 if unknown.
inline int queued_after(msghdr& msg) {
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_TCP && c->cmsg_type == TCP_CM_INQ) {
      int inq;
      std::memcpy(&inq, CMSG_DATA(c), sizeof inq);
      return inq;
    }
  }
  return -1;
}

template <class Handler, class IoExecutor>
class RecvOp : public ad::reactor_op {
 public:
  BOOST_ASIO_DEFINE_HANDLER_PTR(RecvOp);

  RecvOp(ad::socket_type fd, DescriptorState* state, net::mutable_buffer buf, ReadSpace* space,
         Handler& handler, const IoExecutor& io_ex)
      : ad::reactor_op(error_code(), &RecvOp::do_perform, &RecvOp::do_complete),
        fd_(fd),
        state_(state),
        buf_(buf),
        space_(space),
        handler_(std::move(handler)),
        work_(handler_, io_ex) {}

  static status do_perform(ad::reactor_op* base) {
    auto* o = static_cast<RecvOp*>(base);
    if (o->space_ != nullptr) {
      o->buf_ = o->space_->take();
    }
    iovec iov{o->buf_.data(), o->buf_.size()};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n;
    do {
      n = ::recvmsg(o->fd_, &msg, 0);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        if (o->space_ != nullptr) {
          o->space_->give_back();
        }
        return not_done;  // stay queued for the next epoll event
      }
      o->ec_ = error_code(errno, net::error::get_system_category());
      return done;
    }
    o->bytes_transferred_ = static_cast<std::size_t>(n);
    if (n == 0) {
      o->ec_ = net::error::eof;
      return done;
    }
    const bool empty = o->bytes_transferred_ < o->buf_.size() && queued_after(msg) == 0 &&
                       (LastEvents::of(o->state_) & (EPOLLERR | EPOLLHUP)) == 0;
    return empty ? done_and_exhausted : done;
  }

  // Same contract as asio's receive op: free the op before the upcall; no upcall on shutdown (null owner).
  static void do_complete(void* owner, ad::operation* base, const error_code&, std::size_t) {
    auto* o = static_cast<RecvOp*>(base);
    ptr p = {std::addressof(o->handler_), o, o};
    ad::handler_work<Handler, IoExecutor> w(std::move(o->work_));
    ad::binder2<Handler, error_code, std::size_t> handler(o->handler_, o->ec_, o->bytes_transferred_);
    p.h = std::addressof(handler.handler_);
    p.reset();
    if (owner) {
      ad::fenced_block b(ad::fenced_block::half);
      w.complete(handler, handler.handler_);
    }
  }

 private:
  ad::socket_type fd_;
  DescriptorState* state_;  // valid while the op is queued: closing the socket aborts the op first
  net::mutable_buffer buf_;
  ReadSpace* space_;  // when set, buf_ comes from it just before each recv
  Handler handler_;
  ad::handler_work<Handler, IoExecutor> work_;
};

// Per-operation cancellation (cancellation slots, awaitable operators): drops the queued op by key.
class Cancellation {
 public:
  Cancellation(ad::reactor* r, ad::reactor::per_descriptor_data* d, ad::socket_type fd)
      : reactor_(r), data_(d), fd_(fd) {}
  void operator()(net::cancellation_type_t type) {
    if (!!(type & (net::cancellation_type::terminal | net::cancellation_type::partial |
                   net::cancellation_type::total))) {
      reactor_->cancel_ops_by_key(fd_, *data_, ad::reactor::read_op, this);
    }
  }

 private:
  ad::reactor* reactor_;
  ad::reactor::per_descriptor_data* data_;
  ad::socket_type fd_;
};

struct Initiate {
  template <class Handler>
  void operator()(Handler&& h, tcp::socket* sock, ad::reactor* reactor, net::mutable_buffer buf,
                  ReadSpace* space) const {
    using H = std::decay_t<Handler>;
    using Op = RecvOp<H, tcp::socket::executor_type>;
    H handler(std::forward<Handler>(h));
    auto& impl = SocketAccess::impl(*sock);
    const bool is_continuation = boost_asio_handler_cont_helpers::is_continuation(handler);
    auto slot = net::get_associated_cancellation_slot(handler);
    typename Op::ptr p = {std::addressof(handler), Op::ptr::allocate(handler), nullptr};
    p.p = new (p.v) Op(impl.socket_, impl.reactor_data_, buf, space, handler, sock->get_executor());
    if (slot.is_connected()) {
      p.p->cancellation_key_ =
          &slot.template emplace<Cancellation>(reactor, &impl.reactor_data_, impl.socket_);
    }
    if ((space != nullptr || buf.size() > 0) &&
        ((impl.state_ & ad::socket_ops::non_blocking) ||
         ad::socket_ops::set_internal_non_blocking(impl.socket_, impl.state_, true, p.p->ec_))) {
      reactor->start_op(ad::reactor::read_op, impl.socket_, impl.reactor_data_, p.p, is_continuation, true);
    } else {
      reactor->post_immediate_completion(p.p, is_continuation);  // empty buffer, or the error just set
    }
    p.v = p.p = nullptr;
  }
};

}  // namespace ready_read_detail

// The reactor a socket's reads are queued on. Finding it (asio's use_service) takes the context's service
// registry mutex and a walk comparing type names, ~260 instructions: owners of a socket find it once, when
// they get the socket, instead of on every read. Valid while the socket's execution context lives.
class ReadyReactor {
 public:
  ReadyReactor() = default;
  explicit ReadyReactor(tcp::socket& sock)
      : reactor_(&net::use_service<ready_read_detail::ad::reactor>(
            net::query(sock.get_executor(), net::execution::context))) {}

 private:
  template <class Token>
  friend auto async_read_ready(tcp::socket& sock, ReadyReactor r, net::mutable_buffer buf, Token&& token);
  template <class Token>
  friend auto async_read_ready(tcp::socket& sock, ReadyReactor r, ReadSpace& space, Token&& token);
  ready_read_detail::ad::reactor* reactor_ = nullptr;
};

// Asks the kernel to report the bytes left after each read (TCP_INQ, Linux 4.18+), which lets
// async_read_ready skip the next speculative recv. Without it (other socket types, old kernels) the reads
// still work, just without that saving.
inline void enable_read_ready(tcp::socket& sock) {
  const int one = 1;
  ::setsockopt(sock.native_handle(), SOL_TCP, TCP_INQ, &one, sizeof one);
}

// Reads some bytes into `buf` like sock.async_read_some (completion: error_code, bytes), without the
// speculative recv while the socket is known to be empty. `sock` must outlive the operation; `r` is
// ReadyReactor(sock).
template <class Token>
auto async_read_ready(tcp::socket& sock, ReadyReactor r, net::mutable_buffer buf, Token&& token) {
  return net::async_initiate<Token, void(error_code, std::size_t)>(ready_read_detail::Initiate{}, token,
                                                                   &sock, r.reactor_, buf, nullptr);
}

// The same, with the buffer taken from `space` only when the recv runs (it must outlive the operation).
template <class Token>
auto async_read_ready(tcp::socket& sock, ReadyReactor r, ReadSpace& space, Token&& token) {
  return net::async_initiate<Token, void(error_code, std::size_t)>(
      ready_read_detail::Initiate{}, token, &sock, r.reactor_, net::mutable_buffer{}, &space);
}

}  // namespace sluice::http
