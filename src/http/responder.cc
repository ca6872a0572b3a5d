#include "http/responder.h"

#include <sys/socket.h>

#include <array>
#include <sstream>

#include "http/openai_error.h"

namespace sluice::http {

net::awaitable<bool> Responder::write(auto&& buffers) {
  if (broken_) {
    co_return false;
  }
  stream_.expires_after(write_timeout_);
  auto [ec, n] = co_await net::async_write(stream_, buffers, use_tuple);
  stream_.expires_never();
  bytes_sent_ += n;
  if (ec) {
    broken_ = true;
    co_return false;
  }
  co_return true;
}

namespace {
// Status line and fields by hand: one string and one gather write instead of beast's generic serializer.
std::string serialize_head(const bhttp::response_header<>& h, std::size_t content_length, bool keep_alive) {
  std::string out;
  out.reserve(256);
  out += h.version() == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
  out += std::to_string(h.result_int());
  out += ' ';
  out += bhttp::obsolete_reason(h.result());
  out += "\r\n";
  for (const auto& f : h) {
    if (f.name() == bhttp::field::content_length || f.name() == bhttp::field::connection) {
      continue;
    }
    out += f.name_string();
    out += ": ";
    out += f.value();
    out += "\r\n";
  }
  out += "Content-Length: ";
  out += std::to_string(content_length);
  out += "\r\n";
  if (!keep_alive) {
    out += "Connection: close\r\n";
  } else if (h.version() == 10) {
    out += "Connection: keep-alive\r\n";
  }
  out += "\r\n";
  return out;
}
}  // namespace

net::awaitable<bool> Responder::send(Response res) {
  status_ = res.result_int();
  res.version(version_);
  decorate(res);
  committed_ = true;
  std::string head = serialize_head(res.base(), res.body().size(), keep_alive());
  std::array<net::const_buffer, 2> bufs{net::buffer(head),
                                        head_only_ ? net::const_buffer{} : net::buffer(res.body())};
  co_return co_await write(bufs);
}

net::awaitable<bool> Responder::send_error(bhttp::status status, std::string_view message,
                                           std::string_view type, std::string_view code,
                                           std::string_view retry_after) {
  Response res{status, version_};
  res.set(bhttp::field::content_type, "application/json");
  if (!retry_after.empty()) {
    res.set(bhttp::field::retry_after, retry_after);
  }
  res.body() = openai_error_body(message, type, code);
  co_return co_await send(std::move(res));
}

net::awaitable<bool> Responder::send_stream_header(bhttp::response<bhttp::empty_body> res) {
  status_ = res.result_int();
  res.version(version_);
  res.keep_alive(keep_alive());
  decorate(res);
  res.chunked(true);
  committed_ = true;
  std::ostringstream os;
  os << res.base();
  pending_header_ = std::move(os).str();
  co_return !broken_;
}

net::awaitable<bool> Responder::send_chunk(net::const_buffer data, bool last) {
  if (data.size() == 0 && !last) {
    co_return !broken_;
  }
  net::const_buffer head = net::buffer(pending_header_);
  bool ok;
  if (data.size() == 0) {
    ok = co_await write(beast::buffers_cat(head, bhttp::make_chunk_last()));
  } else if (last) {
    ok = co_await write(beast::buffers_cat(head, bhttp::make_chunk(data), bhttp::make_chunk_last()));
  } else {
    ok = co_await write(beast::buffers_cat(head, bhttp::make_chunk(data)));
  }
  pending_header_.clear();
  co_return ok;
}

net::awaitable<bool> Responder::finish_stream() { co_return co_await send_chunk(net::const_buffer{}, true); }

namespace {
// 1: the peer closed or reset; 0: nothing to read yet; -1: bytes are waiting (a pipelined request).
int peek_closed(tcp::socket& sock) {
  char probe;
  ssize_t n = ::recv(sock.native_handle(), &probe, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n > 0) {
    return -1;
  }
  if (n == 0) {
    return 1;
  }
  return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : 1;
}
}  // namespace

void Responder::watch_client(std::function<void()> on_gone) {
  watch_ = std::make_shared<Watch>();
  watch_->on_gone = std::move(on_gone);
  auto& sock = stream_.socket();
  // The handler checks the Watch before touching anything else: it may run after the request is over.
  auto arm = [this, w = watch_, &sock](auto&& self) -> void {
    sock.async_wait(tcp::socket::wait_read, [this, w, &sock, self](error_code ec) {
      if (!w->active || ec) {
        return;
      }
      switch (peek_closed(sock)) {
        case 1:
          broken_ = true;
          w->active = false;
          w->on_gone();
          return;
        case 0:
          self(self);  // spurious wake-up
          return;
        default:
          return;  // a pipelined request: a close behind it cannot be seen; stop watching
      }
    });
  };
  arm(arm);
}

void Responder::unwatch() {
  if (watch_ && watch_->active) {
    watch_->active = false;
    error_code ec;
    stream_.socket().cancel(ec);  // only the watch is pending on this socket now
  }
  watch_.reset();
}

net::awaitable<void> Responder::wait_client_gone() {
  auto& sock = stream_.socket();
  for (;;) {
    auto [ec] = co_await sock.async_wait(tcp::socket::wait_read, use_tuple);
    if (ec == net::error::operation_aborted) {
      co_return;  // cancelled: the request finished first
    }
    if (ec) {
      break;
    }
    int state = peek_closed(sock);
    if (state == 1) {
      break;  // orderly close or reset
    }
    if (state < 0) {
      // A pipelined request is waiting; we cannot see a close behind it. Sleep until cancelled.
      net::steady_timer t{sock.get_executor(), std::chrono::hours(24 * 365)};
      co_await t.async_wait(use_tuple);
      co_return;
    }
  }
  broken_ = true;
}

void Responder::abort() {
  auto& sock = stream_.socket();
  error_code ec;
  sock.set_option(net::socket_base::linger(true, 0), ec);
  sock.close(ec);
  broken_ = true;
  committed_ = true;  // nothing more may be written, not even the session's fallback error
}

}  // namespace sluice::http
