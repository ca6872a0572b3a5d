// ClientWatch on a real loopback TCP pair: a close is reported, pipelined bytes are kept, an unwatched read stays
// pending and brings the next request (waking the session's timer), a cancel or a close wakes it too.
#include "http/client_watch.h"

#include <gtest/gtest.h>

#include "loopback_pair.h"

namespace sluice::http {
namespace {

using Pair = LoopbackPair<>;

std::string contents(const beast::flat_buffer& b) { return beast::buffers_to_string(b.data()); }

// A session-like wait: a long timer the watch cancels when its read completes.
struct Waiter {
  net::steady_timer timer;
  bool woken = false;
  explicit Waiter(net::io_context& ioc) : timer(ioc, std::chrono::hours(1)) {
    timer.async_wait([this](error_code ec) { woken = ec == net::error::operation_aborted; });
  }
};

TEST(ClientWatch, ReportsAClosedClientOnce) {
  Pair p;
  auto w = std::make_shared<ClientWatch>(p.server);
  int calls = 0;
  w->watch([&] { ++calls; });
  p.run();
  EXPECT_EQ(calls, 0);
  p.client.close();
  p.run();
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(w->gone());
}

TEST(ClientWatch, KeepsPipelinedBytesAndStopsWatching) {
  Pair p;
  auto w = std::make_shared<ClientWatch>(p.server);
  int calls = 0;
  w->watch([&] { ++calls; });
  net::write(p.client, net::buffer(std::string_view("GET /next HTTP/1.1\r\n\r\n")));
  p.run();
  beast::flat_buffer b;
  w->drain_into(b);
  EXPECT_EQ(contents(b), "GET /next HTTP/1.1\r\n\r\n");
  p.client.close();  // a close behind pipelined bytes is not watched any more
  p.run();
  EXPECT_EQ(calls, 0);
  EXPECT_FALSE(w->busy());
}

TEST(ClientWatch, UnwatchedReadStaysPendingAndBringsTheNextRequest) {
  Pair p;
  auto w = std::make_shared<ClientWatch>(p.server);
  int calls = 0;
  w->watch([&] { ++calls; });
  w->unwatch();  // the answer is out; the read stays for the next request
  p.run();
  EXPECT_TRUE(w->busy());
  Waiter waiter{p.ioc};
  w->wake_on_completion(&waiter.timer);
  net::write(p.client, net::buffer(std::string_view("POST /v1/chat/completions")));
  p.run();
  EXPECT_TRUE(waiter.woken);
  EXPECT_FALSE(w->busy());
  beast::flat_buffer b;
  w->drain_into(b);
  EXPECT_EQ(contents(b), "POST /v1/chat/completions");
  EXPECT_FALSE(w->has_pending());
  EXPECT_EQ(calls, 0);
}

TEST(ClientWatch, SilentAfterUnwatchButSeesTheClose) {
  Pair p;
  auto w = std::make_shared<ClientWatch>(p.server);
  int calls = 0;
  w->watch([&] { ++calls; });
  w->unwatch();
  Waiter waiter{p.ioc};
  w->wake_on_completion(&waiter.timer);
  p.client.close();
  p.run();
  EXPECT_EQ(calls, 0);
  EXPECT_TRUE(w->gone());
  EXPECT_TRUE(waiter.woken) << "an idle session waiting for its next request learns of the close";
}

TEST(ClientWatch, CancelEndsTheReadWithoutCallingBack) {
  Pair p;
  auto w = std::make_shared<ClientWatch>(p.server);
  int calls = 0;
  w->watch([&] { ++calls; });
  Waiter waiter{p.ioc};
  w->wake_on_completion(&waiter.timer);
  w->cancel();
  p.run();
  EXPECT_FALSE(w->busy());
  EXPECT_FALSE(w->gone());
  EXPECT_TRUE(waiter.woken);
  EXPECT_EQ(calls, 0);
  w->read_ahead();  // the connection is still usable: the next read arms again
  EXPECT_TRUE(w->busy());
}

TEST(ClientWatch, ReadAheadBytesGoInFrontOfWhatTheSessionHolds) {
  Pair p;
  auto w = std::make_shared<ClientWatch>(p.server);
  w->read_ahead();
  net::write(p.client, net::buffer(std::string_view("AB")));
  p.run();
  beast::flat_buffer b;
  b.commit(net::buffer_copy(b.prepare(2), net::buffer(std::string_view("CD"))));
  w->drain_into(b);
  EXPECT_EQ(contents(b), "ABCD");
}

TEST(ClientWatch, DisabledWatchNeverReads) {
  Pair p;
  auto w = std::make_shared<ClientWatch>(p.server);
  w->enable(false);
  int calls = 0;
  w->watch([&] { ++calls; });
  EXPECT_FALSE(w->busy());
  net::write(p.client, net::buffer(std::string_view("x")));
  p.run();
  EXPECT_FALSE(w->has_pending());
  std::array<char, 4> b{};
  EXPECT_EQ(p.server.read_some(net::buffer(b)), 1u) << "the byte stays in the socket for the session";
}

}  // namespace
}  // namespace sluice::http
