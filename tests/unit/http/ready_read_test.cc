// async_read_ready on a real loopback TCP pair. A short read marks the socket empty, so the next read waits
// for epoll instead of trying recv first. The danger is a lost wakeup: data that arrives while the socket is
// marked empty must still complete the read. These tests cover that window, a full buffer, EOF, both kinds
// of cancellation, a FIN or reset queued behind data, and a ping-pong against a peer thread.
#include "http/ready_read.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>

#include "loopback_pair.h"

namespace sluice::http {
namespace {

struct ReadyPair : LoopbackPair<> {
  ReadyPair() { enable_read_ready(server); }
  void send(std::string_view s) { net::write(client, net::buffer(s)); }
};

struct ReadInto {
  bool done = false;
  error_code ec;
  std::string got;
  char buf[64];
  void start(ReadyPair& p, std::size_t size = sizeof(buf)) {
    done = false;
    async_read_ready(p.server, ReadyReactor(p.server), net::buffer(buf, size),
                     [this](error_code e, std::size_t n) {
                       done = true;
                       ec = e;
                       got.assign(buf, n);
                     });
  }
};

TEST(ReadReady, ReadsWhatArrivesThenReportsEof) {
  ReadyPair p;
  ReadInto r;
  p.send("abc");
  r.start(p);
  p.run();
  ASSERT_TRUE(r.done);
  EXPECT_FALSE(r.ec);
  EXPECT_EQ(r.got, "abc");
  p.client.close();
  r.start(p);
  p.run();
  ASSERT_TRUE(r.done);
  EXPECT_EQ(r.ec, net::error::eof);
}

TEST(ReadReady, AfterAShortReadTheNextReadWaitsForData) {
  ReadyPair p;
  ReadInto r;
  p.send("first");
  r.start(p);
  p.run();
  ASSERT_EQ(r.got, "first");  // short read: the socket is now marked empty
  r.start(p);
  p.run(50);
  EXPECT_FALSE(r.done);
  p.send("second");
  p.run();
  ASSERT_TRUE(r.done);
  EXPECT_EQ(r.got, "second");
}

// The window a lost wakeup would hide in: data arrives after the socket was marked empty, and epoll reports
// it while no read is queued. The read started afterwards must still see it.
TEST(ReadReady, DataReportedWhileNoReadIsQueuedIsNotLost) {
  ReadyPair p;
  ReadInto r;
  p.send("one");
  r.start(p);
  p.run();
  ASSERT_EQ(r.got, "one");
  p.send("two");
  // Lets the reactor take the event now, with nothing waiting on the socket (a timer keeps run_for busy).
  net::steady_timer t{p.ioc, std::chrono::milliseconds(30)};
  t.async_wait([](error_code) {});
  p.run(60);
  r.start(p);
  p.run();
  ASSERT_TRUE(r.done);
  EXPECT_EQ(r.got, "two");
}

// A FIN or a reset queued behind the data: the short read that takes the data must not mark the socket empty,
// or the close (whose epoll event is already consumed) would never be read. Both orders: the close's event
// taken by a waiting read, and taken while no read was queued.
void close_behind_data(bool reset, bool read_waiting) {
  ReadyPair p;
  ReadInto r;
  if (read_waiting) {
    r.start(p);
    p.run(20);
    ASSERT_FALSE(r.done);
  }
  p.send("tail");
  if (reset) {
    p.client.set_option(net::socket_base::linger(true, 0));
  }
  p.client.close();
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // both segments arrive before epoll looks
  if (!read_waiting) {
    p.run(20);  // the reactor takes the event with no read queued
    r.start(p);
  }
  p.run();
  ASSERT_TRUE(r.done);
  EXPECT_EQ(r.got, "tail");
  r.start(p);
  p.run();
  ASSERT_TRUE(r.done) << "the close behind the data was lost";
  EXPECT_EQ(r.ec, reset ? error_code(net::error::connection_reset) : error_code(net::error::eof));
}

TEST(ReadReady, AFinBehindDataIsRead) {
  close_behind_data(false, true);
  close_behind_data(false, false);
}

TEST(ReadReady, AResetBehindDataIsRead) {
  close_behind_data(true, true);
  close_behind_data(true, false);
}

TEST(ReadReady, AFullBufferLeavesTheRestForTheNextRead) {
  ReadyPair p;
  ReadInto r;
  p.send("0123456789");
  r.start(p, 4);
  p.run();
  ASSERT_EQ(r.got, "0123");
  r.start(p);
  p.run();
  ASSERT_TRUE(r.done);
  EXPECT_EQ(r.got, "456789");
}

TEST(ReadReady, SocketCancelAbortsAWaitingRead) {
  ReadyPair p;
  ReadInto r;
  r.start(p);
  p.run(20);
  ASSERT_FALSE(r.done);
  p.server.cancel();
  p.run();
  ASSERT_TRUE(r.done);
  EXPECT_EQ(r.ec, net::error::operation_aborted);
}

TEST(ReadReady, CancellationSlotAbortsOnlyThatRead) {
  ReadyPair p;
  net::cancellation_signal sig;
  bool done = false;
  error_code ec;
  char buf[8];
  async_read_ready(p.server, ReadyReactor(p.server), net::buffer(buf),
                   net::bind_cancellation_slot(sig.slot(), [&](error_code e, std::size_t) {
                     done = true;
                     ec = e;
                   }));
  p.run(20);
  ASSERT_FALSE(done);
  sig.emit(net::cancellation_type::terminal);
  p.run();
  ASSERT_TRUE(done);
  EXPECT_EQ(ec, net::error::operation_aborted);
  ReadInto r;  // the socket still works
  p.send("x");
  r.start(p);
  p.run();
  EXPECT_EQ(r.got, "x");
}

TEST(ReadReady, ClosedSocketFailsAtOnce) {
  ReadyPair p;
  p.server.close();
  ReadInto r;
  r.start(p);
  p.run(20);
  ASSERT_TRUE(r.done);
  EXPECT_EQ(r.ec, net::error::bad_descriptor);
}

// Request/response against an echoing peer thread that answers at varying moments: every answer must arrive,
// whether it lands before, while or after the next read is queued.
TEST(ReadReady, PingPongWithAPeerThreadLosesNoWakeup) {
  ReadyPair p;
  constexpr int kRounds = 3000;
  std::thread peer([&] {
    char b[64];
    for (int i = 0;; ++i) {  // until the shutdown below
      error_code ec;
      std::size_t n = p.client.read_some(net::buffer(b), ec);
      if (ec) {
        return;
      }
      if (i % 3 == 1) {
        std::this_thread::yield();
      }
      net::write(p.client, net::buffer(b, n), ec);
    }
  });
  int answered = 0;
  net::co_spawn(
      p.ioc,
      [&]() -> net::awaitable<void> {
        char b[64];
        for (int i = 0; i < kRounds; ++i) {
          const std::string msg = "m" + std::to_string(i);
          auto [wec, w] = co_await net::async_write(p.server, net::buffer(msg), use_tuple);
          if (wec) {
            co_return;
          }
          std::string got;
          while (got.size() < msg.size()) {
            auto [ec, n] =
                co_await async_read_ready(p.server, ReadyReactor(p.server), net::buffer(b), use_tuple);
            if (ec) {
              co_return;
            }
            got.append(b, n);
          }
          if (got != msg) {
            co_return;
          }
          ++answered;
        }
      },
      net::detached);
  p.ioc.run_for(std::chrono::seconds(20));
  p.client.shutdown(tcp::socket::shutdown_both);
  peer.join();
  EXPECT_EQ(answered, kRounds);
}

}  // namespace
}  // namespace sluice::http
