// Responder's client watch on a real loopback pair: a client that closes while the answer is still being
// produced abandoned the request; one that closes after receiving the whole answer did not (curl and most
// SDKs close at once), so the gateway must not treat that request as cancelled.
#include "http/responder.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace sluice::http
