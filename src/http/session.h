#pragma once
// One client connection: reads requests with per-phase timeouts and limits, hands each to the worker's
// Handler, keeps the connection alive between requests, and closes politely.
#include "http/client_watch.h"
#include "http/server.h"

namespace sluice::http {


struct SessionEntry {
  SessionEntry* prev = nullptr;
  SessionEntry* next = nullptr;
  beast::tcp_stream* stream = nullptr;
  bool idle = true;  // between requests: safe to close when draining
};

class Session {
 public:
  Session(Worker& worker, tcp::socket socket);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  net::awaitable<void> run();

 private:
  net::awaitable<bool> next_request(bool first);
  // True when the next request's first bytes are still to come: the watch's read is pending for them.
  bool must_wait_for_request();
  // Waits for a cancelled watch read to complete.
  net::awaitable<void> settle_watch();
  // One read of up to `want` more bytes into buffer_.
  net::awaitable<error_code> read_more(std::size_t want);
  h1::Error take_buffered_body(std::size_t limit);
  net::awaitable<h1::Error> read_body_rest(const ServerOptions& opts);
  void pad_body();
  net::awaitable<void> reject(bhttp::status status, std::string_view message, std::string_view code);
  net::awaitable<void> lingering_close();

  Worker& worker_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::shared_ptr<ClientWatch> watch_;
  Request req_;  // reused by every request of the connection: its head storage is allocated once
  h1::BodyDecoder body_;
  SessionEntry entry_;
  unsigned version_ = 11;
};

void close_idle_sessions(Worker& w);
void close_all_sessions(Worker& w);

}  // namespace sluice::http
