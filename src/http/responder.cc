#include "http/responder.h"

#include <sys/socket.h>

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

net::awaitable<bool> Responder::send(Response res) {
  status_ = res.result_int();
  res.version(version_);
  res.keep_alive(keep_alive());
  decorate(res);
  res.prepare_payload();
  committed_ = true;
  bhttp::response_serializer<bhttp::string_body> sr{res};
  if (broken_) {
    co_return false;
  }
  stream_.expires_after(write_timeout_);
  auto [ec, n] = co_await bhttp::async_write(stream_, sr, use_tuple);
  stream_.expires_never();
  bytes_sent_ += n;
  if (ec) {
    broken_ = true;
  }
  co_return !ec;
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
  bhttp::response_serializer<bhttp::empty_body> sr{res};
  if (broken_) {
    co_return false;
  }
  stream_.expires_after(write_timeout_);
  auto [ec, n] = co_await bhttp::async_write_header(stream_, sr, use_tuple);
  stream_.expires_never();
  bytes_sent_ += n;
  if (ec) {
    broken_ = true;
  }
  co_return !ec;
}

net::awaitable<bool> Responder::send_chunk(net::const_buffer data) {
  if (data.size() == 0) {
    co_return !broken_;
  }
  co_return co_await write(bhttp::make_chunk(data));
}

net::awaitable<bool> Responder::finish_stream() { co_return co_await write(bhttp::make_chunk_last()); }

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
    char probe;
    ssize_t n = ::recv(sock.native_handle(), &probe, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
      break;  // orderly close or reset
    }
    if (n > 0) {
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
