#include "http/responder.h"

#include <sys/socket.h>

#include <array>
#include <charconv>

#include "common/string_writer.h"
#include "http/openai_error.h"
#include "http/send.h"

namespace sluice::http {

using namespace std::string_view_literals;

// Most answers fit the socket's send buffer: one non-blocking send, and no coroutine frame, asynchronous
// write or timer is created for them. True when the write is over (all sent, or the client broke).
bool Responder::write_now(const auto& buffers, std::size_t& sent) {
  if (broken_) {
    return true;
  }
  error_code ec;
  sent = send_now(stream_.socket(), buffers, ec);
  bytes_sent_ += sent;
  if (ec) {
    broken_ = true;
    return true;
  }
  return sent == net::buffer_size(buffers);
}

// What a slow client did not take at once, under the write timeout.
template <class Buffers>
net::awaitable<bool> Responder::write_rest(const Buffers& buffers, std::size_t sent) {
  auto rest = unsent(buffers, sent);
  stream_.expires_after(write_timeout_);
  auto [ec, n] = co_await net::async_write(stream_, rest, await_tuple);
  stream_.expires_never();
  bytes_sent_ += n;
  if (ec) {
    broken_ = true;
  }
  co_return !broken_;
}

// Status line and fields by hand: one string and one gather write instead of beast's generic serializer.
// The request id and extra headers are appended directly (they replace fields of the same name).
// `content_length` < 0: a chunked stream.
std::string Responder::serialize_head(unsigned status, std::initializer_list<Field> own,
                                      const bhttp::fields* fields, std::int64_t content_length) const {
  auto decorated = [this](std::string_view name) {
    if (request_id_len_ != 0 && beast::iequals(name, "x-request-id")) {
      return true;
    }
    for (const auto& [k, v] : *headers_) {
      if (beast::iequals(name, k)) {
        return true;
      }
    }
    return false;
  };
  std::string out;
  {
    StringWriter w(out);
    w << (version_ == 10 ? "HTTP/1.0 "sv : "HTTP/1.1 "sv) << status << ' '
      << bhttp::obsolete_reason(static_cast<bhttp::status>(status)) << "\r\n"sv;
    for (const auto& [k, v] : own) {
      if (!v.empty()) {
        w.field(k, v);
      }
    }
    if (fields) {
      for (const auto& f : *fields) {
        if (f.name() == bhttp::field::content_length || f.name() == bhttp::field::connection ||
            f.name() == bhttp::field::transfer_encoding || decorated(f.name_string())) {
          continue;
        }
        w.field(f.name_string(), f.value());
      }
    }
    if (request_id_len_ != 0) {
      w.field("x-request-id", request_id());
    }
    for (const auto& [k, v] : *headers_) {
      w.field(k, v);
    }
    if (content_length >= 0) {
      w << "Content-Length: "sv << content_length << "\r\n"sv;
    } else {
      w << "Transfer-Encoding: chunked\r\n"sv;
    }
    if (!keep_alive()) {
      w << "Connection: close\r\n"sv;
    } else if (version_ == 10) {
      w << "Connection: keep-alive\r\n"sv;
    }
    w << "\r\n"sv;
  }
  return out;
}

net::awaitable<bool> Responder::send(Response res) {
  status_ = res.result_int();
  committed_ = true;
  std::string head = serialize_head(status_, {}, &res.base(), static_cast<std::int64_t>(res.body().size()));
  std::array<net::const_buffer, 2> bufs{net::buffer(head),
                                        head_only_ ? net::const_buffer{} : net::buffer(res.body())};
  final_write_ = true;
  if (std::size_t sent = 0; !write_now(bufs, sent)) {
    co_return co_await write_rest(bufs, sent);
  }
  co_return !broken_;
}

net::awaitable<bool> Responder::send_body(bhttp::status status, std::string_view content_type,
                                          const std::string& body) {
  if (!send_body_now(status, content_type, body)) {
    co_return co_await send_body_rest(body);
  }
  co_return !broken_;
}

bool Responder::send_body_now(bhttp::status status, std::string_view content_type, const std::string& body) {
  status_ = static_cast<unsigned>(status);
  committed_ = true;
  pending_header_ = serialize_head(status_, {{"Content-Type", content_type}}, nullptr,
                                   static_cast<std::int64_t>(body.size()));
  std::array<net::const_buffer, 2> bufs{net::buffer(pending_header_),
                                        head_only_ ? net::const_buffer{} : net::buffer(body)};
  final_write_ = true;
  body_sent_from_ = 0;
  if (write_now(bufs, body_sent_from_)) {
    pending_header_.clear();
    return true;
  }
  return false;
}

net::awaitable<bool> Responder::send_body_rest(const std::string& body) {
  std::array<net::const_buffer, 2> bufs{net::buffer(pending_header_),
                                        head_only_ ? net::const_buffer{} : net::buffer(body)};
  const bool ok = co_await write_rest(bufs, body_sent_from_);
  pending_header_.clear();
  co_return ok;
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
  committed_ = true;
  pending_header_ = serialize_head(status_, {}, &res.base(), -1);
  co_return !broken_;
}

void Responder::start_stream(bhttp::status status, std::string_view content_type,
                             std::string_view cache_control) {
  status_ = static_cast<unsigned>(status);
  committed_ = true;
  pending_header_ = serialize_head(
      status_, {{"Content-Type", content_type}, {"Cache-Control", cache_control}}, nullptr, -1);
}

net::awaitable<bool> Responder::send_chunk(net::const_buffer data, bool last) {
  if (stream_ended_) {
    co_return data.size() == 0 && !broken_;  // the terminator went out with the last data: nothing follows
  }
  stream_ended_ = last;
  final_write_ = last;
  if (data.size() == 0 && !last) {
    co_return !broken_;
  }
  // [head] [size CRLF, data, CRLF] [last chunk]: one gather write.
  char size_line[sizeof(std::size_t) * 2 + 2];
  std::size_t size_len = 0;
  if (data.size() > 0) {
    size_len = static_cast<std::size_t>(
        std::to_chars(size_line, size_line + sizeof size_line, data.size(), 16).ptr - size_line);
    size_line[size_len++] = '\r';
    size_line[size_len++] = '\n';
  }
  const std::array<net::const_buffer, 5> bufs{net::buffer(pending_header_), net::buffer(size_line, size_len),
                                              data,
                                              data.size() > 0 ? net::buffer("\r\n"sv) : net::const_buffer{},
                                              last ? net::buffer("0\r\n\r\n"sv) : net::const_buffer{}};
  bool ok;
  if (std::size_t sent = 0; !write_now(bufs, sent)) {
    ok = co_await write_rest(bufs, sent);
  } else {
    ok = !broken_;
  }
  pending_header_.clear();
  co_return ok;
}

// Not a coroutine: send_chunk's awaitable is passed on, without a frame of its own.
net::awaitable<bool> Responder::finish_stream() { return send_chunk(net::const_buffer{}, true); }

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
  watching_ = true;
  on_gone_ = std::move(on_gone);
  watch_.watch([this] {  // one pointer: fits std::function's inline storage
    watching_ = false;
    if (final_write_) {
      return;  // a client that closes once it has the whole answer did not abandon the request
    }
    broken_ = true;
    std::exchange(on_gone_, nullptr)();
  });
}

void Responder::unwatch() {
  if (watching_) {
    watching_ = false;
    watch_.unwatch();
  }
  on_gone_ = nullptr;
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
