#pragma once
// How a request handler answers its client: a whole response, or a chunked stream written piece by piece.
// Each write awaits the socket, so a slow client slows the producer instead of growing a buffer (backpressure).
#include <algorithm>
#include <array>
#include <boost/container/small_vector.hpp>
#include <cstdint>
#include <cstring>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/answer_headers.h"
#include "http/asio.h"
#include "http/client_watch.h"
#include "http/h1.h"

namespace sluice::http {

using Request = h1::Request;
using Response = bhttp::response<bhttp::string_body>;

class Responder {
 public:
  Responder(beast::tcp_stream& stream, ClientWatch& watch, const Request& req,
            std::chrono::milliseconds write_timeout, const bool& draining)
      : stream_(stream), watch_(watch), write_timeout_(write_timeout), draining_(draining),
        version_(req.version()), keep_alive_(req.keep_alive()), head_only_(req.method() == bhttp::verb::head) {}
  ~Responder() { unwatch(); }
  Responder(const Responder&) = delete;
  Responder& operator=(const Responder&) = delete;

  // A complete response; Content-Length is set here. Returns false when the client is gone.
  net::awaitable<bool> send(Response res);
  // The same without a beast message: status, Content-Type and body (the common answer of the proxy path).
  net::awaitable<bool> send_body(bhttp::status status, std::string_view content_type, const std::string& body);
  // send_body in two halves, so the common case needs no coroutine frame: true when the socket took the whole
  // answer at once (or the client is gone: check broken()); false when send_body_rest(body) must write the
  // rest. `body` must live until then.
  bool send_body_now(bhttp::status status, std::string_view content_type, const std::string& body);
  net::awaitable<bool> send_body_rest(const std::string& body);
  // An OpenAI-shaped error: {"error":{"message","type","param":null,"code"}}.
  net::awaitable<bool> send_error(bhttp::status status, std::string_view message, std::string_view type,
                                  std::string_view code, std::string_view retry_after = {});

  // Streaming: header once (Transfer-Encoding: chunked), then chunks, then finish. The header goes out with the
  // first chunk and the terminator with the last, so a short stream costs as few writes as possible.
  net::awaitable<bool> send_stream_header(bhttp::response<bhttp::empty_body> res);
  // The same for the common case, without a beast message: the head goes out with the first chunk.
  void start_stream(bhttp::status status, std::string_view content_type, std::string_view cache_control);
  // After a chunk sent with last=true, finish_stream() writes nothing and reports success.
  net::awaitable<bool> send_chunk(net::const_buffer data, bool last = false);
  net::awaitable<bool> finish_stream();

  // Completes when the client has closed or reset its connection while we work on its request.
  // Pipelined bytes (a next request) are left unread; then it waits until cancelled.
  net::awaitable<void> wait_client_gone();

  // Calls `on_gone` (once, on this thread) if the client closes or resets the connection before unwatch().
  // A plain completion handler, not a coroutine: cheap enough to run around every proxied request
  // (client_watch.h). unwatch() leaves the read pending: it brings the next request.
  void watch_client(std::function<void()> on_gone);
  void unwatch();

  // Resets the connection at once (RST, no FIN): for fault injection. The session then just closes.
  void abort();

  bool committed() const { return committed_; }  // the status line is on the wire
  bool broken() const { return broken_; }
  // A drain that starts while the request is in flight still turns the answer into "Connection: close".
  bool keep_alive() const { return keep_alive_ && !broken_ && !draining_; }
  void set_keep_alive(bool v) { keep_alive_ = keep_alive_ && v; }
  unsigned status() const { return status_; }
  // Echoed as x-request-id on every response this responder writes. Kept inline: it is set for every
  // request, and a generated id (16 hex digits) is one byte too long for std::string's inline storage.
  static constexpr std::size_t kMaxRequestId = 128;
  void set_request_id(std::string_view id) {
    request_id_len_ = static_cast<std::uint8_t>(std::min(id.size(), kMaxRequestId));
    std::memcpy(request_id_.data(), id.data(), request_id_len_);
  }
  std::string_view request_id() const { return {request_id_.data(), request_id_len_}; }
  // Set on every response written from now on (e.g. which upstream answered); replaces an earlier value.
  // `name` must outlive the responder (a string literal): it is not copied.
  void set_header(std::string_view name, std::string value) { headers_->set(name, std::move(value)); }
  // Takes its extra headers from `h` (a request context's list) instead of its own until detach_headers().
  void attach_headers(AnswerHeaders& h) { headers_ = &h; }
  void detach_headers() { headers_ = &own_headers_; }
  std::size_t bytes_sent() const { return bytes_sent_; }

 private:
  bool write_now(const auto& buffers, std::size_t& sent);
  template <class Buffers>
  net::awaitable<bool> write_rest(const Buffers& buffers, std::size_t sent);

  beast::tcp_stream& stream_;
  ClientWatch& watch_;
  std::chrono::milliseconds write_timeout_;
  const bool& draining_;  // the worker's flag
  unsigned version_;
  bool keep_alive_;
  bool head_only_;  // HEAD: same header (Content-Length included), no body
  bool committed_ = false;
  bool broken_ = false;
  bool stream_ended_ = false;  // the chunked terminator is on the wire
  bool final_write_ = false;   // the answer's last bytes went to the socket (a failed write still breaks it)
  unsigned status_ = 0;
  std::size_t bytes_sent_ = 0;
  std::array<char, kMaxRequestId> request_id_;
  std::uint8_t request_id_len_ = 0;
  std::string pending_header_;      // serialized head not yet (fully) written: a stream's, or send_body_now's
  std::size_t body_sent_from_ = 0;  // of send_body_now's head and body, the bytes the socket took at once
  bool watching_ = false;
  std::function<void()> on_gone_;  // the current watch_client callback
  AnswerHeaders own_headers_;
  AnswerHeaders* headers_ = &own_headers_;

  using Field = std::pair<std::string_view, std::string_view>;
  std::string serialize_head(unsigned status, std::initializer_list<Field> own, const bhttp::fields* fields,
                             std::int64_t content_length) const;
};

}  // namespace sluice::http
