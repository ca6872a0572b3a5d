#include "upstream/attempt.h"

#include <array>
#include <utility>

#include "http/sse.h"
#include "openai/request_view.h"
#include "routing/backoff.h"

namespace sluice::upstream {

namespace {
constexpr std::size_t kMaxErrorBody = 1 << 20;
constexpr std::string_view kWhitespace = " \t\r\n";

// Collects re-serialised SSE events for the client; drops comments (DeepSeek's ": keep-alive").
class StreamSink : public http::SseSink {
 public:
  explicit StreamSink(StreamStitch* s) : stitch(s) {}
  void on_event(const http::SseEvent& ev) override {
    if (done || cut) {
      return;  // nothing is valid after [DONE] (or after the point where this leg broke)
    }
    if (scrubber && is_error_event(ev.data)) {  // an in-band error may echo the provider key
      std::string data(ev.data);
      if (scrubber->scrub(data) > 0) {
        const SecretScrubber* s = std::exchange(scrubber, nullptr);
        on_event(http::SseEvent{ev.event, data});
        scrubber = s;
        return;
      }
    }
    if (stitch) {
      switch (stitch->on_event(ev.data, rewritten)) {
        case StreamStitch::Verdict::kForward:
          break;
        case StreamStitch::Verdict::kDrop:
          return;
        case StreamStitch::Verdict::kBreak:
          cut = true;
          if (rewritten.empty()) {
            return;
          }
          [[fallthrough]];
        case StreamStitch::Verdict::kRewritten:
          http::append_sse_event(out, http::SseEvent{ev.event, rewritten});
          ++events;
          return;
      }
    }
    if (malformed) {
      return;
    }
    bool usage_only = false;
    if (ev.data == "[DONE]") {
      done = true;
    } else {
      openai::ChunkInfo chunk = openai::inspect_chunk(ev.data);
      if (!chunk.valid) {
        malformed = true;  // cut or corrupt JSON: never relayed, the stream ends with an error event instead
        return;
      }
      if (chunk.usage) {
        usage = chunk.usage;
        usage_only = chunk.usage_only;
      }
    }
    std::size_t before = out.size();
    http::append_sse_event(out, ev);
    if (tap) {
      tap->on_event(upstream, std::string_view(out).substr(before), usage_only);
    }
    if (usage_only && strip_usage) {
      out.resize(before);
    }
    ++events;
  }
  void on_comment(std::string_view) override { ++comments; }

  std::string out;
  std::size_t events = 0;
  std::size_t comments = 0;
  bool done = false;
  bool malformed = false;
  bool cut = false;  // the stitch saw the stream break (malformed chunk, truncated by the provider)
  std::optional<openai::Usage> usage;
  cache::RelayTap* tap = nullptr;
  bool strip_usage = false;
  std::string_view upstream;
  StreamStitch* stitch;
  std::string rewritten;
  const SecretScrubber* scrubber = nullptr;

 private:
  // The shape providers send (`data: {"error":...}`); checked on every event, so only the prefix.
  static bool is_error_event(std::string_view data) { return data.starts_with("{\"error\""); }
};

bool is_disconnect(const error_code& ec) {
  return ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message || ec == net::error::eof ||
         ec == net::error::connection_reset || ec == net::error::broken_pipe ||
         ec == net::ssl::error::stream_truncated || ec == net::error::operation_aborted ||
         ec == net::error::bad_descriptor;
}

class Attempt {
 public:
  Attempt(const AttemptSpec& spec, UpstreamPool& pool, ClientSink& sink, AttemptOutcome& out)
      : spec_(spec), pool_(pool), sink_(sink), out_(out) {
    out_ = AttemptOutcome{};
    const auto& t = spec.upstream.timeouts;
    start_ = spec.started != Clock::time_point{} ? spec.started : Clock::now();
    total_deadline_ = std::min(spec.deadline, start_ + t.total);
    first_deadline_ = std::min(total_deadline_, start_ + t.first_token);
  }

  // The attempt's one long-lived frame, which holds the Attempt itself.
  static net::awaitable<void> run(const AttemptSpec& spec, UpstreamPool& pool, ClientSink& sink,
                                  AttemptOutcome& out) {
    Attempt a{spec, pool, sink, out};
    auto close_current = [&a] {
      if (a.current_ != nullptr) {
        a.current_->close();
      }
    };
    std::optional<CancelScope::Hook> cancelled;
    if (spec.cancel != nullptr) {
      cancelled.emplace(*spec.cancel, CancelScope::kUpstream, close_current);
    }
    if (a.lost()) {
      co_return;
    }
    if (spec.cancel != nullptr && spec.cancel->cancelled(CancelScope::kUpstream)) {
      // Cancelled before it began (the client left while it was being prepared): nothing to close, so the
      // hook above could not stop it.
      a.fail(UpstreamFailure::kReset, "cancelled before the upstream call");
      co_return;
    }
    if (co_await a.connect_and_send()) {
      unsigned status = a.conn_->head().status();
      out.upstream_status = status;
      out.rate = routing::parse_rate_signals(a.conn_->head().fields());
      if (status >= 400) {
        co_await a.read_error_body();
      } else if (spec.stream && a.is_event_stream()) {
        co_await a.relay_stream();
      } else if (spec.stitch && spec.stitch->continuing()) {
        a.keep_conn_ = false;  // a continuation must be a stream: a whole JSON answer cannot be stitched in
        a.fail(UpstreamFailure::kProtocolError, "continuation answered without text/event-stream");
      } else if (const Relay r = a.relay_buffered_now(); r != Relay::kDone) {
        co_await a.relay_buffered_rest(r);
      }
    }
    a.lost();  // an attempt cut short because another one won is not the host's failure
    a.finish_connection();
  }

 private:
  Clock::time_point next_deadline() const {
    return std::min(total_deadline_,
                    got_first_ ? last_progress_ + spec_.upstream.timeouts.idle : first_deadline_);
  }
  UpstreamFailure timeout_kind() const {
    if (next_deadline() >= total_deadline_) {
      return UpstreamFailure::kTotalTimeout;
    }
    return got_first_ ? UpstreamFailure::kIdleTimeout : UpstreamFailure::kFirstTokenTimeout;
  }
  void fail(UpstreamFailure f, std::string detail) {
    if (out_.failure == UpstreamFailure::kNone) {
      out_.failure = f;
      out_.detail = std::move(detail);
    }
  }
  void fail_io(const error_code& ec, std::string_view phase) {
    if (ec == beast::error::timeout) {
      fail(timeout_kind(), std::string(phase) + ": timed out");
    } else if (is_disconnect(ec)) {
      fail(UpstreamFailure::kReset, std::string(phase) + ": " + ec.message());
    } else {
      fail(UpstreamFailure::kProtocolError, std::string(phase) + ": " + ec.message());
    }
  }
  bool is_event_stream() const {
    auto ct = conn_->head()[bhttp::field::content_type];
    return ct.substr(0, 17) == "text/event-stream";
  }
  // False when another attempt of this request already owns the client: this one must stop, silently.
  bool progress() {
    auto now = Clock::now();
    if (!got_first_) {
      got_first_ = true;
      out_.ttft = std::chrono::duration_cast<std::chrono::milliseconds>(now - start_);
      if (spec_.gate && !spec_.gate->claim(spec_.gate_id)) {
        return !lost();
      }
    }
    last_progress_ = now;
    return true;
  }
  bool lost() {
    if (spec_.gate && spec_.gate->lost(spec_.gate_id)) {
      out_.lost_race = true;
      keep_conn_ = false;  // mid-response: the connection cannot be reused
      fail(UpstreamFailure::kReset, "cancelled: another attempt answered first");
      return true;
    }
    return false;
  }

  net::awaitable<bool> connect_and_send() {
    // A reused keep-alive connection may have been closed by the upstream just as we picked it. Only a failed
    // write proves the upstream never saw the request, so only that is replayed here, once, on a fresh
    // connection; anything after the write is an attempt failure for the retry policy (budgeted, counted).
    for (int tries = 0; tries < 2; ++tries) {
      AcquireResult acq;
      if (auto idle = pool_.take_idle()) {
        current_ = idle.get();
        acq.conn = std::move(idle);
      } else {
        acq = co_await pool_.acquire(std::min(total_deadline_, start_ + spec_.upstream.timeouts.connect),
                                     &current_);
      }
      if (acq.failure != UpstreamFailure::kNone) {
        current_ = nullptr;
        fail(acq.failure, std::move(acq.detail));
        co_return false;
      }
      conn_ = std::move(acq.conn);
      bool reused = conn_->reused();
      conn_->set_deadline(first_deadline_);
      std::array<net::const_buffer, 2> request{net::buffer(spec_.request_head),
                                               net::buffer(spec_.request_body)};
      std::size_t sent = 0;
      error_code wec;
      if (!conn_->write_now(request, sent, wec)) {
        std::tie(wec, sent) = co_await conn_->write_rest(request, sent);
      }
      if (wec) {
        bool stale = reused && wec != beast::error::timeout && wec != net::error::operation_aborted &&
                     is_disconnect(wec);
        conn_->close();
        conn_.reset();
        current_ = nullptr;
        if (stale) {
          continue;
        }
        fail_io(wec, "upstream request");
        co_return false;
      }
      // UpstreamConnection::read_header(), in this frame.
      conn_->start_header();
      error_code hec;
      while (!conn_->header_now(hec)) {
        auto [rec, n] = co_await conn_->read_some(await_tuple);
        if ((hec = conn_->finish_header_read(rec, n))) {
          break;
        }
      }
      if (hec) {
        fail_io(hec, "upstream response header");
        co_return false;
      }
      co_return true;
    }
    fail(UpstreamFailure::kReset, "upstream closed two connections in a row");
    co_return false;
  }

  // The next piece of body (conn_->body_bytes), under the deadline that applies now: from the connection's
  // buffer when it is there (no coroutine frame), else awaited from the socket.
  using Chunk = std::tuple<error_code, std::size_t>;
  bool chunk_now(Chunk& chunk) {
    conn_->set_deadline(next_deadline());
    return conn_->read_body_now(chunk);
  }
  net::awaitable<Chunk> read_chunk() { return conn_->read_body(); }  // after chunk_now() said no

  bool commit_stream() {
    out_.committed = true;
    sink_.start_stream();
    return !sink_.broken();
  }

  net::awaitable<void> relay_stream() {
    http::SseParser sse;
    StreamSink sink{spec_.stitch};
    sink.tap = spec_.tap;
    sink.strip_usage = spec_.strip_usage_chunk;
    sink.upstream = spec_.upstream.name;
    sink.scrubber = spec_.scrubber && !spec_.scrubber->empty() ? spec_.scrubber : nullptr;
    std::size_t events_seen = 0;
    bool client_ok = true;
    if (spec_.stitch && spec_.stitch->continuing()) {
      out_.committed = true;  // continuing a stream already on the wire: no second header
    }
    // With a tap, others may read along: the upstream is read to the end even after this client left.
    while (!conn_->response_done() && (client_ok || (spec_.tap && spec_.tap->wanted())) && !sink.cut) {
      Chunk next;
      if (!chunk_now(next)) {
        next = co_await read_chunk();
      }
      auto [ec, got] = next;
      if (got > 0) {
        sink.out.reserve(got + 64);  // the relayed events are about as long as the bytes read: one allocation
        if (!sse.feed(conn_->body_bytes(got), sink)) {
          fail(UpstreamFailure::kProtocolError, "SSE event exceeds the size limit");
          break;
        }
        out_.keepalives = sink.comments;
        if (sink.events > events_seen) {
          events_seen = sink.events;
          if (!progress()) {
            co_return;
          }
        }
        if (!sink.out.empty()) {
          client_ok = client_ok && (out_.committed || commit_stream()) &&
                      co_await sink_.send_chunk(net::buffer(sink.out), sink.done);  // [DONE]: terminator too
          sink.out.clear();
        }
        if (sink.malformed && client_ok) {
          keep_conn_ = false;
          fail(UpstreamFailure::kProtocolError, "upstream sent a stream chunk that is not valid JSON");
          break;
        }
      }
      if (ec) {
        if (lost()) {
          co_return;
        }
        fail_io(ec, "upstream stream");
        break;
      }
    }
    out_.usage = sink.usage;
    if (!client_ok) {
      fail(UpstreamFailure::kReset, "client went away");
      co_return;
    }
    if (sink.done) {
      if (out_.failure != UpstreamFailure::kNone) {
        keep_conn_ = false;  // complete for the client; the connection itself is not reusable
        out_.failure = UpstreamFailure::kNone;
        out_.detail.clear();
      }
      if (co_await sink_.finish_stream()) {
        sink_.answered();
      }
      co_return;
    }
    stream_broke(sink);
  }

  // A stream that ended without [DONE]: why, in the outcome. Only keep-alives before the end is "empty".
  void stream_broke(const StreamSink& sink) {
    if (sink.cut) {
      keep_conn_ = false;
      fail(UpstreamFailure::kProtocolError,
           "upstream stream cut (malformed chunk, in-band error or insufficient_system_resource)");
    }
    const bool only_keepalives = sink.events == 0 && sink.comments > 0;
    if (out_.failure == UpstreamFailure::kNone) {
      fail(only_keepalives ? UpstreamFailure::kEmptyResponse : UpstreamFailure::kReset,
           "upstream stream ended without [DONE]");
    } else if (only_keepalives && out_.failure == UpstreamFailure::kReset) {
      out_.failure = UpstreamFailure::kEmptyResponse;
    }
    out_.broken_stream = out_.committed;  // the caller continues it elsewhere, or ends it
  }

  // A buffered (non-stream) answer: read whole, checked, then written in one piece. relay_buffered_now() runs
  // without a frame as far as the buffered bytes and the socket allow (for the usual answer that came with
  // its head, to the end); relay_buffered_rest() goes on from where it stopped.
  enum class Relay { kDone, kRead, kWrite };
  Relay relay_buffered_now() {
    if (const auto& head = conn_->head();
        head.framing() == http::h1::Framing::kLength && head.content_length() <= spec_.max_response_bytes) {
      // The JSON parser's padding: no copy later. Called again after a read, this is a no-op.
      body_.reserve(head.content_length() + http::kBodyPadding);
    }
    while (!conn_->response_done()) {
      Chunk next;
      if (!chunk_now(next)) {
        return Relay::kRead;
      }
      if (!take_body(next)) {
        return Relay::kDone;
      }
    }
    return answer_buffered();
  }
  net::awaitable<void> relay_buffered_rest(Relay from) {
    while (from == Relay::kRead) {  // relay_buffered_now found nothing buffered: read, then go on with it
      const Chunk next = co_await read_chunk();
      if (!take_body(next)) {
        co_return;
      }
      from = relay_buffered_now();
    }
    if (from == Relay::kWrite) {
      answered(co_await sink_.send_body_rest(body_));  // a slow client
    }
  }
  // One piece of a buffered body into body_; false when the relay ends here (failed, or lost the race).
  bool take_body(const Chunk& next) {
    auto [ec, got] = next;
    std::string_view chunk = conn_->body_bytes(got);
    if (!got_first_ && !chunk.empty()) {
      auto p = chunk.find_first_not_of(kWhitespace);
      out_.keepalives += static_cast<std::size_t>(
          std::count(chunk.begin(), p == std::string_view::npos ? chunk.end() : chunk.begin() + p, '\n'));
      chunk.remove_prefix(p == std::string_view::npos ? chunk.size() : p);
    }
    if (!chunk.empty()) {
      if (!progress()) {
        return false;
      }
      if (body_.size() + chunk.size() > spec_.max_response_bytes) {
        fail(UpstreamFailure::kProtocolError, "upstream response exceeds max_response_bytes");
        return false;
      }
      body_.append(chunk);
    }
    if (ec) {
      if (lost()) {
        return false;
      }
      fail_io(ec, "upstream body");
      if (body_.empty() && out_.keepalives > 0 && out_.failure == UpstreamFailure::kReset) {
        out_.failure = UpstreamFailure::kEmptyResponse;
      }
      return false;
    }
    return true;
  }
  // The whole body: checked, then written; kWrite when the socket did not take it at once.
  Relay answer_buffered() {
    if (body_.empty()) {
      fail(UpstreamFailure::kEmptyResponse, "upstream body had no content");
      return Relay::kDone;
    }
    openai::ResponseFacts facts = openai::inspect_response(body_);
    if (!facts.valid) {
      fail(UpstreamFailure::kProtocolError, "upstream body is not valid JSON");
      return Relay::kDone;
    }
    if (facts.error_object) {  // DeepSeek's in-band failure: a 200 whose body is an error, never an answer
      keep_conn_ = false;
      fail(UpstreamFailure::kServerError, "upstream answered 200 with an error object");
      return Relay::kDone;
    }
    out_.usage = facts.usage;
    out_.cut_short = facts.cut_short;
    if (spec_.hold == AttemptSpec::Hold::kAlways ||
        (spec_.hold == AttemptSpec::Hold::kCutShort && facts.cut_short)) {
      out_.held_body = std::move(body_);  // the caller continues it elsewhere, or sends it
      return Relay::kDone;
    }
    if (spec_.tap) {
      spec_.tap->on_body(spec_.upstream.name, body_);
    }
    out_.committed = true;
    if (!sink_.send_body_now(body_)) {
      return Relay::kWrite;
    }
    answered(!sink_.broken());
    return Relay::kDone;
  }
  void answered(bool sent) {
    if (!sent) {
      fail(UpstreamFailure::kReset, "client went away");
    } else {
      sink_.answered();
    }
  }

  net::awaitable<void> read_error_body() {
    std::string body;
    while (!conn_->response_done()) {
      Chunk next;
      if (!chunk_now(next)) {
        next = co_await read_chunk();
      }
      auto [ec, got] = next;
      if (body.size() + got > kMaxErrorBody) {
        keep_conn_ = false;
        break;
      }
      body.append(conn_->body_bytes(got));
      if (ec) {
        keep_conn_ = false;
        break;
      }
    }
    auto b = body.find_first_not_of(kWhitespace);
    auto e = body.find_last_not_of(kWhitespace);
    out_.error_body = b == std::string::npos ? std::string{} : body.substr(b, e - b + 1);
    if (spec_.scrubber) {
      spec_.scrubber->scrub(out_.error_body);
    }
    // Relayed to the client: only a value the gateway understands (delta-seconds).
    if (const std::string_view ra = conn_->head()[bhttp::field::retry_after];
        routing::parse_retry_after(ra)) {
      out_.retry_after = std::string(ra);
    }
    fail(classify_status(out_.upstream_status),
         "upstream answered HTTP " + std::to_string(out_.upstream_status));
  }

  void finish_connection() {
    current_ = nullptr;
    if (!conn_) {
      return;
    }
    bool reusable = keep_conn_ && conn_->response_done() && conn_->head().keep_alive() &&
                    (out_.failure == UpstreamFailure::kNone || out_.upstream_status >= 400);
    if (reusable) {
      pool_.release(std::move(conn_));
    } else {
      conn_->close();
      conn_.reset();
    }
  }

  const AttemptSpec& spec_;
  UpstreamPool& pool_;
  ClientSink& sink_;
  UpstreamConnection* current_ =
      nullptr;  // the connection in use or being set up (the cancel hook closes it)
  std::unique_ptr<UpstreamConnection> conn_;
  AttemptOutcome& out_;
  Clock::time_point start_, total_deadline_, first_deadline_, last_progress_;
  bool got_first_ = false;
  bool keep_conn_ = true;
  std::string body_;     // a buffered answer (relay_buffered_now)
};
}  // namespace

net::awaitable<void> run_attempt(const AttemptSpec& spec, UpstreamPool& pool, ClientSink& sink,
                                 AttemptOutcome& out) {
  return Attempt::run(spec, pool, sink, out);  // not a coroutine itself: one frame less per attempt
}

}  // namespace sluice::upstream
