// ClientWatch on a real loopback TCP pair: a close is reported, pipelined bytes are kept, an unwatched read
// stays pending and brings the next request (waking the session's wait), a cancel or a close wakes it too,
// and the wait's lazy deadline times it out when nothing comes.
#include "http/client_watch.h"

#include <gtest/gtest.h>

#include "loopback_pair.h"

namespace sluice::http {
namespace {

using Pair = LoopbackPair<>;

std::string contents(const beast::flat_buffer& b) { return beast::buffers_to_string(b.data()); }

using Clock = ClientWatch::Clock;
using namespace std::chrono_literals;

// A session-like wait for the next request; `woken` when the read completed, `timed_out` when the deadline
// passed first.
struct Waiter {
  bool woken = false;
  bool timed_out = false;
  Waiter(ClientWatch& w, Clock::duration timeout = 1h) {
    w.async_wait_read(Clock::now() + timeout, [this](error_code ec) {
      woken = !ec;
      timed_out = ec == net::error::timed_out;
    });
  }
};

// A wait with `timeout` that a request ends at once; the watch then reads for the next one.
bool first_request_within(Pair& p, ClientWatch& w, Clock::duration timeout) {
  w.read_ahead();
  Waiter first{w, timeout};
  net::write(p.client, net::buffer(std::string_view("A")));
  p.run(20);
  beast::flat_buffer b;
  w.drain_into(b);
  w.read_ahead();
  return first.woken && contents(b) == "A";
}

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
  Waiter waiter{*w};
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

// A watched request (a stream waiting for its upstream) and an idle keep-alive connection hold no read buffer:
// it is taken when bytes arrive and freed when the session takes them or the client closes.
TEST(ClientWatch, HoldsABufferOnlyWhileBytesAreThere) {
  if (SLUICE_PORTABLE_IO) {
    GTEST_SKIP() << "the portable read takes its buffer up front (http/ready_read.h)";
  }
  Pair p;
  auto w = std::make_shared<ClientWatch>(p.server);
  int calls = 0;
  w->watch([&] { ++calls; });
  p.run();
  EXPECT_TRUE(w->busy());
  EXPECT_FALSE(w->holds_buffer()) << "a read waiting for bytes holds a buffer";
  net::write(p.client, net::buffer(std::string_view("GET / HTTP/1.1\r\n\r\n")));
  p.run();
  EXPECT_TRUE(w->holds_buffer());
  beast::flat_buffer b;
  w->drain_into(b);
  EXPECT_EQ(contents(b), "GET / HTTP/1.1\r\n\r\n");
  EXPECT_FALSE(w->holds_buffer()) << "the session took the bytes; the buffer stays allocated";
  w->read_ahead();
  p.run();
  EXPECT_FALSE(w->holds_buffer());
  p.client.close();
  p.run();
  EXPECT_TRUE(w->gone());
  EXPECT_FALSE(w->holds_buffer());
}

// Bytes the session read itself stay behind the watch's (they came later).
TEST(ClientWatch, DrainPutsItsBytesInFrontOfTheSessions) {
  Pair p;
  auto w = std::make_shared<ClientWatch>(p.server);
  w->read_ahead();
  net::write(p.client, net::buffer(std::string_view("first ")));
  p.run();
  beast::flat_buffer b;
  b.commit(net::buffer_copy(b.prepare(6), net::buffer(std::string_view("second"))));
  w->drain_into(b);
  EXPECT_EQ(contents(b), "first second");
}

TEST(ClientWatch, SilentAfterUnwatchButSeesTheClose) {
  Pair p;
  auto w = std::make_shared<ClientWatch>(p.server);
  int calls = 0;
  w->watch([&] { ++calls; });
  w->unwatch();
  Waiter waiter{*w};
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
  Waiter waiter{*w};
  w->cancel();
  p.run();
  EXPECT_FALSE(w->busy());
  EXPECT_FALSE(w->gone());
  EXPECT_TRUE(waiter.woken);
  EXPECT_EQ(calls, 0);
  w->read_ahead();  // the connection is still usable: the next read arms again
  EXPECT_TRUE(w->busy());
}

TEST(ClientWatch, WaitTimesOutAtItsDeadlineAndTheReadStaysPending) {
  Pair p;
  auto w = std::make_shared<ClientWatch>(p.server);
  w->read_ahead();
  Waiter waiter{*w, 30ms};
  p.run(10);
  EXPECT_FALSE(waiter.timed_out);
  p.run(300);
  EXPECT_TRUE(waiter.timed_out);
  EXPECT_FALSE(waiter.woken);
  EXPECT_TRUE(w->busy()) << "the session decides what to do with the read";
}

TEST(ClientWatch, TimerArmedForAnEarlierWaitIsReArmedToTheLaterDeadline) {
  Pair p;
  auto w = std::make_shared<ClientWatch>(p.server);
  ASSERT_TRUE(first_request_within(p, *w, 40ms));  // arms the timer for 40 ms
  const auto from = Clock::now();
  Waiter second{*w, 250ms};  // later than the armed timer: it fires early and re-arms
  p.run(150);
  EXPECT_FALSE(second.timed_out) << "timed out after " << (Clock::now() - from) / 1ms << " ms";
  p.run(500);
  EXPECT_TRUE(second.timed_out);
  EXPECT_GE(Clock::now() - from, 250ms);
}

TEST(ClientWatch, AnEarlierDeadlineThanTheArmedTimerReArmsIt) {
  Pair p;
  auto w = std::make_shared<ClientWatch>(p.server);
  ASSERT_TRUE(first_request_within(p, *w, 1h));
  Waiter second{*w, 30ms};
  p.run(400);
  EXPECT_TRUE(second.timed_out) << "the hour-long timer must not hold a 30 ms wait";
}

TEST(ClientWatch, DetachReleasesTheWatchFromItsTimerAndRead) {
  Pair p;
  auto w = std::make_shared<ClientWatch>(p.server);
  std::weak_ptr<ClientWatch> weak = w;
  w->read_ahead();
  {
    Waiter waiter{*w, 1h};
    w->detach();
    w.reset();
    p.run(50);
  }
  EXPECT_TRUE(weak.expired()) << "a pending read or deadline still owns the watch after detach";
}

// The waiting session's frame owns the watch, and the watch keeps the wait's handler: destroying the
// io_context with the read pending must still free both.
TEST(ClientWatch, DestroyingTheIoContextFreesAWaitingSessionAndItsWatch) {
  std::weak_ptr<ClientWatch> weak;
  bool resumed = false;
  {
    Pair p;
    struct Conn {
      tcp::socket sock;
      std::shared_ptr<ClientWatch> watch = std::make_shared<ClientWatch>(sock);
      ~Conn() { watch->detach(); }
    };
    auto session = [&]() -> net::awaitable<void> {
      Conn c{std::move(p.server)};
      weak = c.watch;
      c.watch->read_ahead();
      co_await c.watch->async_wait_read(Clock::now() + 1h, use_tuple);
      resumed = true;
    };
    net::co_spawn(p.ioc, session(), net::detached);
    p.run(20);
    ASSERT_FALSE(weak.expired());
  }
  EXPECT_FALSE(resumed);
  EXPECT_TRUE(weak.expired()) << "the waiting session and its watch leaked";
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
