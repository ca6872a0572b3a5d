// UpstreamConnection against a scripted loopback peer: the deadline watchdog times a read out, moving a
// deadline later keeps the read alive past the first wait (and still times out), moving it earlier re-arms,
// clearing it disarms; read_body hands over every buffered chunk at once and does not wait behind an
// incomplete one; interim 1xx heads are skipped; parse errors and closes map to their error codes.
#include "upstream/connection.h"

#include <gtest/gtest.h>

#include "http/h1_error.h"

namespace sluice::upstream {
namespace {

using namespace std::chrono_literals;

struct Peer {
  net::io_context ioc;
  tcp::acceptor acceptor{ioc, tcp::endpoint{net::ip::make_address("127.0.0.1"), 0}};
  tcp::socket server{ioc};
  config::Upstream up;
  std::unique_ptr<UpstreamPool> pool;
  std::unique_ptr<UpstreamConnection> conn;

  Peer() {
    up.name = "peer";
    up.scheme = "http";
    up.host = "127.0.0.1";
    up.port = acceptor.local_endpoint().port();
    pool = std::make_unique<UpstreamPool>(ioc.get_executor(), up, nullptr);
    UpstreamConnection* slot = nullptr;
    net::co_spawn(
        ioc,
        [&]() -> net::awaitable<void> {
          auto r = co_await pool->acquire(Clock::now() + 2s, &slot);
          conn = std::move(r.conn);
        },
        net::detached);
    ioc.run_for(2s);  // the kernel completes the handshake from the listen backlog
    ioc.restart();
    acceptor.accept(server);
  }
  // Writes `bytes` to the connection after `delay`.
  void send_after(std::chrono::milliseconds delay, std::string bytes) {
    auto t = std::make_shared<net::steady_timer>(ioc, delay);
    t->async_wait([this, t, b = std::move(bytes)](error_code) { net::write(server, net::buffer(b)); });
  }
  // Runs `op` to completion (bounded) and returns its result and when it completed.
  template <class Op>
  std::pair<error_code, Clock::time_point> run(Op op) {
    error_code result = net::error::would_block;
    Clock::time_point done_at{};
    net::co_spawn(
        ioc,
        [&]() -> net::awaitable<void> {
          result = co_await op();
          done_at = Clock::now();
          ioc.stop();  // the watchdog's wait may still be pending
        },
        net::detached);
    ioc.run_for(3s);
    ioc.restart();
    return {result, done_at};
  }
};

class UpstreamConnectionTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(peer.conn); }
  // Sets `deadlines` (from one instant, in order) on a silent peer, reads a header, expects a timeout and
  // returns how long after that instant it came.
  Clock::duration header_timeout_after(std::initializer_list<std::chrono::milliseconds> deadlines) {
    const auto t0 = Clock::now();
    for (auto d : deadlines) {
      peer.conn->set_deadline(t0 + d);
    }
    auto [ec, done_at] = peer.run([&] { return peer.conn->read_header(); });
    EXPECT_EQ(ec, beast::error::timeout);
    return done_at - t0;
  }
  // One read_body: its bytes, and when it completed.
  std::pair<std::string, Clock::time_point> read_body_once() {
    std::string got;
    auto [ec, at] = peer.run([&]() -> net::awaitable<error_code> {
      auto [e, n] = co_await peer.conn->read_body();
      got = peer.conn->body_bytes(n);
      co_return e;
    });
    EXPECT_FALSE(ec) << ec.message();
    return {got, at};
  }
  // Reads body pieces until the response is done or an error (bounded by `max_reads`).
  std::pair<error_code, std::string> read_whole_body(int max_reads = 16) {
    std::string body;
    error_code ec;
    for (int i = 0; i < max_reads && !ec && !peer.conn->response_done(); ++i) {
      std::size_t n = 0;
      std::tie(ec, std::ignore) = peer.run([&]() -> net::awaitable<error_code> {
        auto [e, got] = co_await peer.conn->read_body();
        n = got;
        co_return e;
      });
      body.append(peer.conn->body_bytes(n));
    }
    return {ec, body};
  }
  Peer peer;
};

TEST_F(UpstreamConnectionTest, ReadTimesOutAtTheDeadline) {
  const auto took = header_timeout_after({50ms});
  EXPECT_GE(took, 50ms);
  EXPECT_LT(took, 1s);
}

TEST_F(UpstreamConnectionTest, ALaterDeadlineKeepsTheReadAlivePastTheFirstWait) {
  const auto t0 = Clock::now();         // deadlines and sends are measured from here
  peer.conn->set_deadline(t0 + 50ms);   // the watchdog waits for this one
  peer.conn->set_deadline(t0 + 400ms);  // moved later: no new wait, the first one re-arms
  peer.send_after(150ms, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
  auto [ec, done_at] = peer.run([&] { return peer.conn->read_header(); });
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_GE(done_at - t0, 150ms);
  EXPECT_EQ(peer.conn->head().status(), 200u);
}

TEST_F(UpstreamConnectionTest, AMovedDeadlineStillTimesOut) {
  const auto took = header_timeout_after({30ms, 200ms});
  EXPECT_GE(took, 200ms);
  EXPECT_LT(took, 1s);
}

TEST_F(UpstreamConnectionTest, AnEarlierDeadlineReArmsTheWatchdog) {
  EXPECT_LT(header_timeout_after({10s, 50ms}), 1s);
}

TEST_F(UpstreamConnectionTest, AClearedDeadlineNeverFires) {
  const auto t0 = Clock::now();  // deadlines and sends are measured from here
  peer.conn->set_deadline(t0 + 30ms);
  peer.conn->clear_deadline();
  peer.send_after(120ms, "HTTP/1.1 204 No Content\r\n\r\n");
  auto [ec, done_at] = peer.run([&] { return peer.conn->read_header(); });
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_EQ(peer.conn->head().status(), 204u);
  EXPECT_TRUE(peer.conn->response_done());  // a 204 has no body
}

TEST_F(UpstreamConnectionTest, ReadSomeTakesEveryBufferedChunkWithoutWaitingForAnIncompleteOne) {
  const auto t0 = Clock::now();  // deadlines and sends are measured from here
  peer.send_after(0ms,
                  "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                  "3\r\nabc\r\n3\r\ndef\r\n3\r\ngh");  // the third chunk is still arriving
  auto [hec, hdone_at] = peer.run([&] { return peer.conn->read_header(); });
  ASSERT_FALSE(hec) << hec.message();
  std::size_t got = 0;
  peer.conn->set_deadline(t0 + 2s);
  auto [ec, done_at] = peer.run([&]() -> net::awaitable<error_code> {
    auto [e, n] = co_await peer.conn->read_body();
    got = n;
    co_return e;
  });
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_LT(done_at - t0, 1s) << "did not wait for the rest of the third chunk";
  EXPECT_EQ(peer.conn->body_bytes(got), "abcdefgh");
  EXPECT_FALSE(peer.conn->response_done());
}

// A stream waiting for its first byte, or between two events, holds no buffer (issue 24's memory target):
// buffers are taken when bytes arrive and freed before each wait and when the pool takes the connection back.
TEST_F(UpstreamConnectionTest, HoldsNoBufferWhileWaiting) {
  if (SLUICE_PORTABLE_IO) {
    GTEST_SKIP() << "the portable read takes its buffer up front (http/ready_read.h)";
  }
  EXPECT_EQ(peer.conn->buffer_bytes(), 0u) << "a new connection allocated buffers";
  std::size_t while_waiting_for_head = 1, while_waiting_for_body = 1;
  auto probe = [&](std::size_t* into, std::chrono::milliseconds at) {
    auto t = std::make_shared<net::steady_timer>(peer.ioc, at);
    t->async_wait([this, t, into](error_code) { *into = peer.conn->buffer_bytes(); });
  };
  probe(&while_waiting_for_head, 50ms);
  peer.send_after(100ms, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n");
  auto [hec, hdone] = peer.run([&] { return peer.conn->read_header(); });
  ASSERT_FALSE(hec) << hec.message();
  EXPECT_EQ(while_waiting_for_head, 0u);
  auto [first, fdone] = read_body_once();
  EXPECT_EQ(first, "abc");
  EXPECT_GT(peer.conn->buffer_bytes(), 0u);
  probe(&while_waiting_for_body, 50ms);
  peer.send_after(100ms, "3\r\ndef\r\n0\r\n\r\n");
  auto [second, sdone] = read_body_once();
  EXPECT_EQ(second, "def");
  EXPECT_EQ(while_waiting_for_body, 0u) << "the wait between two chunks held a buffer";
  auto [ec, rest] = read_whole_body();
  EXPECT_FALSE(ec) << ec.message();
  ASSERT_TRUE(peer.conn->response_done());
  peer.pool->release(std::move(peer.conn));
  auto idle = peer.pool->take_idle();
  ASSERT_NE(idle, nullptr);
  EXPECT_EQ(idle->buffer_bytes(), 0u) << "an idle pooled connection holds buffers";
}

TEST_F(UpstreamConnectionTest, PeerCloseBeforeAnyByteIsEndOfStream) {
  const auto t0 = Clock::now();  // deadlines and sends are measured from here
  peer.server.close();
  peer.conn->set_deadline(t0 + 2s);
  auto [ec, done_at] = peer.run([&] { return peer.conn->read_header(); });
  EXPECT_EQ(ec, bhttp::error::end_of_stream);
}

TEST_F(UpstreamConnectionTest, InterimHeadsAreSkippedAndTheBodyEndsAtItsLength) {
  peer.conn->set_deadline(Clock::now() + 2s);
  peer.send_after(0ms,
                  "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
                  "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Ratelimit-Remaining-Requests: 7\r\n\r\n"
                  "helloHTTP/1.1 200 OK\r\n");  // bytes of a next response stay unread
  auto [hec, at] = peer.run([&] { return peer.conn->read_header(); });
  ASSERT_FALSE(hec) << hec.message();
  EXPECT_EQ(peer.conn->head().status(), 200u);
  EXPECT_EQ(peer.conn->head()["x-ratelimit-remaining-requests"], "7");
  EXPECT_TRUE(peer.conn->head().keep_alive());
  auto [ec, body] = read_whole_body();
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_EQ(body, "hello");
  EXPECT_TRUE(peer.conn->response_done());
}

TEST_F(UpstreamConnectionTest, ABodyUntilCloseEndsAtTheClose) {
  peer.conn->set_deadline(Clock::now() + 2s);
  peer.send_after(0ms, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{\"a\":1}");
  auto [hec, at] = peer.run([&] { return peer.conn->read_header(); });
  ASSERT_FALSE(hec) << hec.message();
  EXPECT_FALSE(peer.conn->head().keep_alive());
  peer.send_after(20ms, "");
  auto t = std::make_shared<net::steady_timer>(peer.ioc, 40ms);
  t->async_wait([this, t](error_code) { peer.server.close(); });
  auto [ec, body] = read_whole_body();
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_EQ(body, "{\"a\":1}");
  EXPECT_TRUE(peer.conn->response_done());
}

TEST_F(UpstreamConnectionTest, ACloseInsideTheBodyIsAPartialMessage) {
  peer.conn->set_deadline(Clock::now() + 2s);
  peer.send_after(0ms, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
  auto [hec, at] = peer.run([&] { return peer.conn->read_header(); });
  ASSERT_FALSE(hec) << hec.message();
  auto t = std::make_shared<net::steady_timer>(peer.ioc, 30ms);
  t->async_wait([this, t](error_code) { peer.server.close(); });
  auto [ec, body] = read_whole_body();
  EXPECT_EQ(ec, bhttp::error::partial_message);
  EXPECT_EQ(body, "abc");
  EXPECT_FALSE(peer.conn->response_done());
}

TEST_F(UpstreamConnectionTest, AMalformedHeadIsAParseError) {
  peer.conn->set_deadline(Clock::now() + 2s);
  peer.send_after(0ms, "HTTP/1.1 200 OK\r\nBad Header: x\r\n\r\n");
  auto [ec, at] = peer.run([&] { return peer.conn->read_header(); });
  EXPECT_EQ(ec, http::h1::make_error_code(http::h1::Error::kBadField)) << ec.message();
  EXPECT_FALSE(peer.conn->response_done());
}

TEST_F(UpstreamConnectionTest, ACloseInsideTheHeadIsAPartialMessage) {
  peer.conn->set_deadline(Clock::now() + 2s);
  peer.send_after(0ms, "HTTP/1.1 200 OK\r\nContent-");
  auto t = std::make_shared<net::steady_timer>(peer.ioc, 30ms);
  t->async_wait([this, t](error_code) { peer.server.close(); });
  auto [ec, at] = peer.run([&] { return peer.conn->read_header(); });
  EXPECT_EQ(ec, bhttp::error::partial_message) << ec.message();
}

}  // namespace
}  // namespace sluice::upstream
