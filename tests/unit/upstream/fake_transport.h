#pragma once
// An in-memory Transport for executor tests: each upstream answers from a script (status, body, stream
// events, a delay before content, a cut), writes through the ClientSink exactly as the socket relay would
// (claiming through the race's gate, passing stream events through the stitch), and records every request it
// was sent.
#include <deque>
#include <map>
#include <string>
#include <vector>

#include "openai/usage.h"
#include "upstream/transport.h"

namespace sluice::upstream::testing {

struct Scripted {
  UpstreamFailure fail_before = UpstreamFailure::kNone;  // e.g. kConnectFailed: no HTTP answer at all
  unsigned status = 200;
  std::string body =
      R"({"id":"x","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}})";
  std::string retry_after;
  std::vector<std::string> events;     // stream: data of each event
  bool done = true;                    // stream: [DONE] after the events (false: the connection is cut)
  std::chrono::milliseconds delay{0};  // before the first content
};

struct Sent {
  std::string upstream;
  std::string head;
  std::string body;
  bool cancelled = false;  // its scope was cancelled while it waited
};

class FakeTransport final : public Transport {
 public:
  std::deque<Scripted> in_order;  // answers by the order attempts arrive in, whatever the host
  std::map<std::string, std::deque<Scripted>> scripts;  // then by upstream name; none: 200, the default body
  std::vector<Sent> sent;

  net::awaitable<void> attempt(const AttemptSpec& spec, ClientSink& sink, AttemptOutcome& out) override {
    out = AttemptOutcome{};
    Scripted s;
    if (!in_order.empty()) {
      s = in_order.front();
      in_order.pop_front();
    } else if (auto& q = scripts[spec.upstream.name]; !q.empty()) {
      s = q.front();
      q.pop_front();
    }
    const std::size_t me = sent.size();
    sent.push_back({spec.upstream.name, std::string(spec.request_head), std::string(spec.request_body)});
    if (s.delay.count() > 0 && !co_await wait(spec, s.delay)) {
      sent[me].cancelled = true;
      out.failure = UpstreamFailure::kReset;
      out.lost_race = spec.gate && spec.gate->lost(spec.gate_id);
      co_return;
    }
    if (s.fail_before != UpstreamFailure::kNone) {
      out.failure = s.fail_before;
      co_return;
    }
    out.upstream_status = s.status;
    if (s.status >= 400) {
      out.failure = routing::classify_status(s.status);
      out.error_body = s.body;
      out.retry_after = s.retry_after;
      co_return;
    }
    out.ttft = std::chrono::milliseconds(s.delay);
    if (spec.gate && !spec.gate->claim(spec.gate_id)) {
      out.lost_race = true;
      out.failure = UpstreamFailure::kReset;
      co_return;
    }
    if (!spec.stream) {
      // As the socket attempt: a 200 error object fails, a cut-short answer may be held for the caller.
      std::string body = s.body;
      const openai::ResponseFacts facts = openai::inspect_response(body);
      if (facts.error_object) {
        out.failure = UpstreamFailure::kServerError;
        co_return;
      }
      out.usage = facts.usage;
      out.cut_short = facts.cut_short;
      if (spec.hold == AttemptSpec::Hold::kAlways ||
          (spec.hold == AttemptSpec::Hold::kCutShort && facts.cut_short)) {
        out.held_body = std::move(body);
        co_return;
      }
      out.committed = true;
      if (!sink.send_body_now(body)) {
        co_await sink.send_body_rest(body);
      }
      sink.answered();
      co_return;
    }
    co_await relay(spec, s, sink, out);
  }

 private:
  static net::awaitable<bool> wait(const AttemptSpec& spec, std::chrono::milliseconds d) {
    net::steady_timer timer{co_await net::this_coro::executor, d};
    auto stop = [&timer] { timer.cancel(); };
    std::optional<CancelScope::Hook> hook;
    if (spec.cancel) {
      hook.emplace(*spec.cancel, CancelScope::kUpstream, stop);
    }
    auto [ec] = co_await timer.async_wait(use_tuple);
    co_return !ec;
  }

  static net::awaitable<void> relay(const AttemptSpec& spec, const Scripted& s, ClientSink& sink,
                                    AttemptOutcome& out) {
    out.committed = true;
    if (!spec.stitch || !spec.stitch->continuing()) {
      sink.start_stream();
    }
    std::string rewritten;
    for (const std::string& data : s.events) {
      std::string_view event = data;
      if (spec.stitch) {
        const auto v = spec.stitch->on_event(data, rewritten);
        if (v == StreamStitch::Verdict::kDrop) {
          continue;
        }
        if (v != StreamStitch::Verdict::kForward) {
          event = rewritten;
        }
      }
      const std::string chunk = "data: " + std::string(event) + "\n\n";
      if (!co_await sink.send_chunk(net::buffer(chunk), false)) {
        out.failure = UpstreamFailure::kReset;
        co_return;
      }
    }
    if (!s.done) {
      out.failure = UpstreamFailure::kReset;
      out.broken_stream = true;
      co_return;
    }
    static const std::string kDone = "data: [DONE]\n\n";
    co_await sink.send_chunk(net::buffer(kDone), true);
    co_await sink.finish_stream();
    sink.answered();
  }
};

// Collects what a client would receive.
class RecordingSink final : public ClientSink {
 public:
  bool stream_started = false;
  bool finished = false;
  bool gone = false;
  std::string bytes;

  void start_stream() override { stream_started = true; }
  net::awaitable<bool> send_chunk(net::const_buffer data, bool) override {
    bytes.append(static_cast<const char*>(data.data()), data.size());
    co_return !gone;
  }
  net::awaitable<bool> finish_stream() override {
    finished = true;
    co_return !gone;
  }
  bool send_body_now(const std::string& body) override {
    bytes = body;
    finished = true;
    return true;
  }
  net::awaitable<bool> send_body_rest(const std::string&) override { co_return !gone; }
  bool broken() const override { return gone; }
  void answered() override {}
};

}  // namespace sluice::upstream::testing
