#pragma once
// The only code that writes to a proxied request's client. Stages decide (a local answer, a cached answer, a
// shared flight to follow, an upstream answer) and the writer turns each decision into bytes: error
// envelopes, replays in the request's shape, relayed streams (as the upstream attempts' ClientSink), and the
// error ending of a stream that cannot be completed.
#include <functional>
#include <string>

#include "cache/lookup.h"
#include "common/cancel_scope.h"
#include "http/responder.h"
#include "upstream/attempt.h"
#include "upstream/client_sink.h"

namespace sluice::gateway {

// An answer the gateway gives itself (validation, admission): an OpenAI error.
struct LocalReply {
  unsigned status = 0;
  std::string message;
  std::string_view type = "invalid_request_error";
  std::string code;
  std::string param;
  std::string retry_after;  // whole seconds; empty: none
};

class ClientWriter final : public upstream::ClientSink {
 public:
  // Answers carry `headers` (the request context's list) from now on.
  ClientWriter(http::Responder& res, http::AnswerHeaders& headers) : res_(res) {
    res.attach_headers(headers);
  }
  ~ClientWriter() override { res_.detach_headers(); }
  ClientWriter(const ClientWriter&) = delete;
  ClientWriter& operator=(const ClientWriter&) = delete;

  // ClientSink: an upstream attempt's relay. Forwarding, not coroutines: no frame of their own.
  void start_stream() override;
  net::awaitable<bool> send_chunk(net::const_buffer data, bool last) override {
    return res_.send_chunk(data, last);
  }
  net::awaitable<bool> finish_stream() override { return res_.finish_stream(); }
  bool send_body_now(const std::string& body) override;
  net::awaitable<bool> send_body_rest(const std::string& body) override { return res_.send_body_rest(body); }
  bool broken() const override { return res_.broken(); }
  void answered() override { res_.unwatch(); }

  // `on_gone` runs once if the client closes before the answer is complete (one pointer: no allocation).
  void watch(std::function<void()> on_gone) { res_.watch_client(std::move(on_gone)); }
  void unwatch() { res_.unwatch(); }

  net::awaitable<void> reply(const LocalReply& r);
  // The answer to a failed upstream part: before anything was sent, the mapped error; a stream already open
  // ends with the failure as its last event.
  net::awaitable<void> fail(const upstream::AttemptOutcome& out);
  net::awaitable<void> replay(const cache::CachedAnswer& a, bool stream, bool include_usage);
  // Reads along another request's upstream call. kRunOwn: its leader left before any answer, so this request
  // must go upstream itself. The scope's kWait hooks stop the wait (the client left).
  enum class Follow { kServed, kRunOwn };
  net::awaitable<Follow> follow(cache::Flight& f, const cache::CacheTicket& t, CancelScope& cancel);

  unsigned status() const { return res_.status(); }
  std::size_t bytes_sent() const { return res_.bytes_sent(); }
  std::string_view request_id() const { return res_.request_id(); }
  void close_after() { res_.set_keep_alive(false); }

 private:
  net::awaitable<void> send_json(unsigned status, std::string body, std::string_view retry_after = {});
  net::awaitable<void> end_stream(std::string_view tail);

  http::Responder& res_;
};

}  // namespace sluice::gateway
