// The executor on the in-memory transport: retries, fallbacks, hedges, provider-key switching and mid-stream
// failover run end to end without a socket, with the router, budgets and health of a real config.
#include "gateway/executor.h"

#include <gtest/gtest.h>

#include "../upstream/fake_transport.h"
#include "admission/admission.h"
#include "config/loader.h"
#include "gateway/gateway_metrics.h"

namespace sluice::gateway {
namespace {

using namespace std::chrono_literals;
using upstream::testing::FakeTransport;
using upstream::testing::RecordingSink;
using upstream::testing::Scripted;

const std::string kChat = R"({"model":"m","messages":[{"role":"user","content":"hi"}]})";
const std::string kStreamChat = R"({"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]})";

std::string chunk(std::string_view content, std::string_view finish = {}) {
  std::string c =
      R"({"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":")" +
      std::string(content) + R"("},"finish_reason":)";
  c += finish.empty() ? "null" : "\"" + std::string(finish) + "\"";
  return c + "}]}";
}

struct ExecutorTest : ::testing::Test {
  std::shared_ptr<const config::Config> cfg;
  std::unique_ptr<routing::Router> router;
  telemetry::Registry reg;
  std::unique_ptr<GatewayMetrics> metrics;
  std::unique_ptr<admission::Admission> admission;
  SecretScrubber secrets;
  FakeTransport transport;
  std::mt19937_64 rng{3};
  net::io_context ioc;
  http::h1::Request client;

  void load(
      const std::string& yaml, config::EnvLookup env = [](const std::string&) { return std::nullopt; }) {
    auto r = config::load_string(yaml, "t.yaml", env);
    ASSERT_TRUE(r.config) << (r.errors.empty() ? "" : r.errors[0].to_string());
    cfg = r.config;
    router = std::make_unique<routing::Router>(*cfg);
    metrics = std::make_unique<GatewayMetrics>(*router, reg);
    admission = std::make_unique<admission::Admission>(*cfg);
  }

  ExecuteResult run(const std::string& model, const std::string& body, bool stream, RecordingSink& sink,
                    http::AnswerHeaders& headers, CancelScope& cancel,
                    std::chrono::milliseconds budget = 10s) {
    ExecutorDeps deps{*router, *cfg, *metrics, *admission, secrets, transport, rng};
    ExecuteResult result;
    ExecuteInput in{.group = *router->group(model),
                    .path = "/chat/completions",
                    .client = client,
                    .body = body,
                    .model = model,
                    .request_id = "rid",
                    .stream = stream,
                    .deadline = Clock::now() + budget};
    net::co_spawn(ioc, execute(deps, in, sink, cancel, headers, result), net::detached);
    ioc.run_for(5s);
    return result;
  }
  ExecuteResult run(const std::string& model, const std::string& body, bool stream, RecordingSink& sink) {
    http::AnswerHeaders headers;
    CancelScope cancel;
    return run(model, body, stream, sink, headers, cancel);
  }
};

constexpr std::string_view kTwoHosts = R"(
upstreams:
  a: {base_url: "http://a.test"}
  b: {base_url: "http://b.test"}
models:
  m:
    deployments: [{upstream: a}, {upstream: b}]
    balancer: round_robin
    retry: {max_attempts: 3, backoff_base: 1ms, backoff_cap: 2ms}
)";

TEST_F(ExecutorTest, RetriesA503OnTheOtherHostAndNamesIt) {
  load(std::string(kTwoHosts));
  transport.scripts["a"] = {Scripted{.status = 503, .body = R"({"error":{"message":"busy"}})"}};
  transport.scripts["b"] = {Scripted{.status = 503, .body = R"({"error":{"message":"busy"}})"}};
  RecordingSink sink;
  http::AnswerHeaders headers;
  CancelScope cancel;
  const ExecuteResult r = run("m", kChat, false, sink, headers, cancel);
  ASSERT_EQ(transport.sent.size(), 3u);
  EXPECT_NE(transport.sent[0].upstream, transport.sent[1].upstream);
  EXPECT_EQ(r.out.failure, routing::UpstreamFailure::kNone);
  EXPECT_EQ(r.attempts, 3u);
  EXPECT_NE(sink.bytes.find("chat.completion"), std::string::npos);
  std::map<std::string, std::string> h;
  for (const auto& [k, v] : headers) {
    h[std::string(k)] = v;
  }
  EXPECT_EQ(h["x-sluice-attempts"], "3");
  EXPECT_EQ(h["x-sluice-upstream"], transport.sent[2].upstream);
}

TEST_F(ExecutorTest, ClientErrorsAreAnsweredAtOnce) {
  load(std::string(kTwoHosts));
  transport.scripts["a"] = {Scripted{.status = 400, .body = R"({"error":{"message":"bad"}})"}};
  transport.scripts["b"] = transport.scripts["a"];
  RecordingSink sink;
  const ExecuteResult r = run("m", kChat, false, sink);
  EXPECT_EQ(transport.sent.size(), 1u);
  EXPECT_EQ(r.out.upstream_status, 400u);
  EXPECT_EQ(r.out.error_body, R"({"error":{"message":"bad"}})");
}

TEST_F(ExecutorTest, FallsBackToTheNextGroupWithItsModelId) {
  load(R"(
upstreams:
  a: {base_url: "http://a.test"}
  b: {base_url: "http://b.test"}
models:
  m: {upstream: a, retry: {max_attempts: 1}, fallbacks: [n]}
  n: {upstream: b, model: other-id}
)");
  transport.scripts["a"] = {Scripted{.fail_before = routing::UpstreamFailure::kConnectFailed}};
  RecordingSink sink;
  const ExecuteResult r = run("m", kChat, false, sink);
  ASSERT_EQ(transport.sent.size(), 2u);
  EXPECT_EQ(transport.sent[1].upstream, "b");
  EXPECT_NE(transport.sent[1].body.find("\"other-id\""), std::string::npos);
  ASSERT_NE(r.answered_by, nullptr);
  EXPECT_EQ(r.answered_by->name, "n");
  EXPECT_EQ(r.upstream_model(), "other-id");
}

TEST_F(ExecutorTest, A402SwitchesToTheUpstreamsOtherKey) {
  load(R"(
upstreams:
  a: {base_url: "http://a.test", api_key_env: [K1, K2]}
models:
  m: {upstream: a, retry: {max_attempts: 2, backoff_base: 1ms, backoff_cap: 1ms}}
)",
       [](const std::string& n) { return std::optional<std::string>(n == "K1" ? "key-one" : "key-two"); });
  transport.scripts["a"] = {Scripted{.status = 402, .body = R"({"error":{"message":"balance"}})"}};
  RecordingSink sink;
  const ExecuteResult r = run("m", kChat, false, sink);
  ASSERT_EQ(transport.sent.size(), 2u);
  const bool first_one = transport.sent[0].head.find("Bearer key-one") != std::string::npos;
  EXPECT_NE(transport.sent[1].head.find(first_one ? "Bearer key-two" : "Bearer key-one"), std::string::npos);
  EXPECT_EQ(r.out.failure, routing::UpstreamFailure::kNone);
}

TEST_F(ExecutorTest, AHedgeWinsAndTheSlowPrimaryIsCancelled) {
  load(R"(
upstreams:
  a: {base_url: "http://a.test"}
  b: {base_url: "http://b.test"}
models:
  m:
    deployments: [{upstream: a}, {upstream: b}]
    balancer: round_robin
    hedge: {delay: 20ms}
)");
  transport.in_order = {Scripted{.delay = 2s}, Scripted{}};  // the first attempt stalls, the hedge answers
  RecordingSink sink;
  const auto t0 = Clock::now();
  const ExecuteResult r = run("m", kChat, false, sink);
  EXPECT_LT(Clock::now() - t0, 1s);
  ASSERT_EQ(transport.sent.size(), 2u);
  EXPECT_NE(transport.sent[0].upstream, transport.sent[1].upstream);
  EXPECT_TRUE(transport.sent[0].cancelled) << "the slow primary must be closed once the hedge answered";
  EXPECT_EQ(r.out.failure, routing::UpstreamFailure::kNone);
  EXPECT_EQ(r.upstream->name, transport.sent[1].upstream);
  EXPECT_EQ(r.attempts, 2u);
}

constexpr std::string_view kFailover = R"(
upstreams:
  a: {base_url: "http://a.test/v1"}
  b: {base_url: "http://b.test/v1"}
models:
  m:
    deployments: [{upstream: a}, {upstream: b}]
    balancer: round_robin
    failover: {enabled: true, mode: prefix, max_resumes: 2}
)";

TEST_F(ExecutorTest, ABrokenStreamContinuesOnAnotherHostAsOneStream) {
  load(std::string(kFailover));
  const Scripted cut{.events = {chunk("Hello"), chunk(" wor")}, .done = false};
  const Scripted rest{.events = {chunk("ld"), chunk("", "stop")}};
  transport.in_order = {cut, rest};
  RecordingSink sink;
  const ExecuteResult r = run("m", kStreamChat, true, sink);
  ASSERT_EQ(transport.sent.size(), 2u);
  EXPECT_NE(transport.sent[0].upstream, transport.sent[1].upstream);
  EXPECT_EQ(transport.sent[1].head.rfind("POST /beta/chat/completions ", 0), 0u) << transport.sent[1].head;
  EXPECT_NE(transport.sent[1].body.find("Hello wor"), std::string::npos) << transport.sent[1].body;
  EXPECT_EQ(r.out.failure, routing::UpstreamFailure::kNone);
  EXPECT_NE(r.out.detail.find("resumed mid-stream (1)"), std::string::npos);
  EXPECT_NE(sink.bytes.find("\"ld\""), std::string::npos);
  EXPECT_NE(sink.bytes.find("data: [DONE]"), std::string::npos);
  EXPECT_EQ(sink.bytes.find("\"role\""), std::string::npos);
}

TEST_F(ExecutorTest, ABrokenStreamWithoutFailoverIsLeftForTheWriterToEnd) {
  load(std::string(kTwoHosts));
  transport.scripts["a"] = {Scripted{.events = {chunk("Hel")}, .done = false}};
  transport.scripts["b"] = transport.scripts["a"];
  RecordingSink sink;
  const ExecuteResult r = run("m", kStreamChat, true, sink);
  EXPECT_EQ(transport.sent.size(), 1u);  // committed: no retry
  EXPECT_TRUE(r.out.committed);
  EXPECT_TRUE(r.out.broken_stream);
  EXPECT_EQ(r.out.failure, routing::UpstreamFailure::kReset);
}

std::string answer(std::string_view id, std::string_view content, std::string_view finish, int completion) {
  return R"({"id":")" + std::string(id) +
         R"(","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":")" +
         std::string(content) + R"("},"finish_reason":")" + std::string(finish) +
         R"("}],"usage":{"prompt_tokens":5,"completion_tokens":)" + std::to_string(completion) +
         R"(,"total_tokens":)" + std::to_string(5 + completion) + "}}";
}


TEST_F(ExecutorTest, ANonStreamAnswerCutShortIsContinuedAndJoined) {
  load(std::string(kFailover));
  transport.in_order = {Scripted{.body = answer("c1", "Hello wor", "insufficient_system_resource", 3)},
                        Scripted{.body = answer("c2", "ld!", "stop", 2)}};
  RecordingSink sink;
  http::AnswerHeaders headers;
  CancelScope cancel;
  const ExecuteResult r = run("m", kChat, false, sink, headers, cancel);
  ASSERT_EQ(transport.sent.size(), 2u);
  EXPECT_NE(transport.sent[0].upstream, transport.sent[1].upstream);
  EXPECT_NE(transport.sent[1].body.find("Hello wor"), std::string::npos) << transport.sent[1].body;
  EXPECT_EQ(r.out.failure, routing::UpstreamFailure::kNone);
  EXPECT_NE(sink.bytes.find("\"Hello world!\""), std::string::npos) << sink.bytes;
  EXPECT_NE(sink.bytes.find("\"finish_reason\":\"stop\""), std::string::npos) << sink.bytes;
  EXPECT_EQ(sink.bytes.find("insufficient_system_resource"), std::string::npos) << sink.bytes;
  EXPECT_NE(sink.bytes.find("\"id\":\"c1\""), std::string::npos) << "one completion, the first piece's id";
  ASSERT_TRUE(r.out.usage);
  EXPECT_EQ(r.out.usage->completion_tokens, 5u);
  std::map<std::string, std::string> h;
  for (const auto& [k, v] : headers) {
    h[std::string(k)] = v;
  }
  EXPECT_EQ(h["x-sluice-resumes"], "1");
}

TEST_F(ExecutorTest, ACutShortAnswerWithoutFailoverGoesAsItCame) {
  load(std::string(kTwoHosts));
  transport.in_order = {Scripted{.body = answer("c1", "Hel", "insufficient_system_resource", 1)}};
  RecordingSink sink;
  const ExecuteResult r = run("m", kChat, false, sink);
  EXPECT_EQ(transport.sent.size(), 1u);
  EXPECT_NE(sink.bytes.find("insufficient_system_resource"), std::string::npos) << sink.bytes;
}

TEST_F(ExecutorTest, A200ErrorObjectIsRetriedElsewhere) {
  load(std::string(kTwoHosts));
  transport.in_order = {Scripted{.body = R"({"error":{"message":"Service busy","type":"server_error"}})"},
                        Scripted{}};
  RecordingSink sink;
  const ExecuteResult r = run("m", kChat, false, sink);
  ASSERT_EQ(transport.sent.size(), 2u);
  EXPECT_NE(transport.sent[0].upstream, transport.sent[1].upstream);
  EXPECT_EQ(r.out.failure, routing::UpstreamFailure::kNone);
  EXPECT_NE(sink.bytes.find("chat.completion"), std::string::npos);
}

TEST_F(ExecutorTest, TheClientLeavingStopsABackoffAtOnce) {
  load(R"(
upstreams:
  a: {base_url: "http://a.test"}
models:
  m: {upstream: a, retry: {max_attempts: 3, backoff_base: 5s, backoff_cap: 5s}}
)");
  transport.scripts["a"] = {Scripted{.status = 503}, Scripted{.status = 503}, Scripted{.status = 503}};
  RecordingSink sink;
  http::AnswerHeaders headers;
  CancelScope cancel;
  net::steady_timer leave{ioc, 30ms};
  leave.async_wait([&](error_code) {
    sink.gone = true;
    cancel.cancel();
  });
  const auto t0 = Clock::now();
  const ExecuteResult r = run("m", kChat, false, sink, headers, cancel);
  EXPECT_LT(Clock::now() - t0, 2s);
  EXPECT_LE(transport.sent.size(), 2u);
  EXPECT_EQ(r.out.upstream_status, 503u);
}

}  // namespace
}  // namespace sluice::gateway
