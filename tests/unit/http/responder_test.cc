// Responder's client watch on a real loopback pair: a client that closes while the answer is still being
// produced abandoned the request; one that closes after receiving the whole answer did not (curl and most
// SDKs close at once), so the gateway must not treat that request as cancelled.
#include "http/responder.h"

#include <gtest/gtest.h>

#include <thread>

#include "loopback_pair.h"

namespace sluice::http {
namespace {

struct WatchedPair : LoopbackPair<beast::tcp_stream> {
  Request req{bhttp::verb::post, "/v1/chat/completions", 11};
  bool draining = false;
  std::shared_ptr<ClientWatch> watch;
  WatchedPair() : watch(std::make_shared<ClientWatch>(server.socket())) {}
};

TEST(ResponderWatch, ACloseBeforeTheAnswerBreaksTheRequest) {
  WatchedPair p;
  Responder res{p.server, *p.watch, p.req, std::chrono::seconds(5), p.draining};
  int gone = 0;
  res.watch_client([&] { ++gone; });
  p.run();
  p.client.close();
  p.run();
  EXPECT_EQ(gone, 1);
  EXPECT_TRUE(res.broken());
}

TEST(ResponderWatch, ACloseAfterTheWholeAnswerDoesNot) {
  for (bool stream : {false, true}) {
    WatchedPair p;
    Responder res{p.server, *p.watch, p.req, std::chrono::seconds(5), p.draining};
    int gone = 0;
    res.watch_client([&] { ++gone; });
    bool sent = false;
    net::co_spawn(
        p.ioc,
        [&]() -> net::awaitable<void> {
          if (stream) {
            res.start_stream(bhttp::status::ok, "text/event-stream", "no-cache");
            sent = co_await res.send_chunk(net::buffer(std::string_view("data: [DONE]\n\n")), true);
          } else {
            sent = co_await res.send_body(bhttp::status::ok, "application/json", "{}");
          }
        },
        net::detached);
    p.run();
    ASSERT_TRUE(sent);
    p.client.close();  // the request's coroutine has not unwatched yet
    p.run();
    EXPECT_EQ(gone, 0) << (stream ? "stream" : "body");
    EXPECT_FALSE(res.broken()) << (stream ? "stream" : "body");
    res.unwatch();
  }
}

// The common answer goes out without a coroutine frame; one the socket cannot take at once is finished by
// send_body_rest, and the client gets head and body whole.
TEST(ResponderSend, AnAnswerTheSocketCannotTakeAtOnceIsFinishedAsynchronously) {
  WatchedPair p;
  Responder res{p.server, *p.watch, p.req, std::chrono::seconds(5), p.draining};
  const std::string body(64 << 20, 'x');  // more than loopback socket buffers hold
  p.server.socket().non_blocking(true);   // as the session sets it
  ASSERT_FALSE(res.send_body_now(bhttp::status::ok, "application/json", body));
  std::string got;
  std::thread reader([&] {
    std::array<char, 1 << 16> b;
    error_code ec;
    for (;;) {
      const std::size_t n = p.client.read_some(net::buffer(b), ec);
      got.append(b.data(), n);
      const auto end = got.find("\r\n\r\n");
      if (ec || (end != std::string::npos && got.size() - end - 4 >= body.size())) {
        return;
      }
    }
  });
  bool sent = false;
  net::co_spawn(
      p.ioc, [&]() -> net::awaitable<void> { sent = co_await res.send_body_rest(body); }, net::detached);
  p.run(20'000);
  reader.join();
  EXPECT_TRUE(sent);
  EXPECT_FALSE(res.broken());
  const auto end = got.find("\r\n\r\n");
  ASSERT_NE(end, std::string::npos);
  EXPECT_TRUE(got.starts_with("HTTP/1.1 200 OK\r\n")) << got.substr(0, end);
  EXPECT_NE(got.find("Content-Length: 67108864\r\n"), std::string::npos) << got.substr(0, end);
  EXPECT_TRUE(got.substr(end + 4) == body) << "body of " << got.size() - end - 4 << " bytes";
  EXPECT_EQ(res.bytes_sent(), got.size());
}

}  // namespace
}  // namespace sluice::http
