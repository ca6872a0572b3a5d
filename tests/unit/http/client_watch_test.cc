// ClientWatch on a real loopback TCP pair: a close is reported, pipelined bytes are kept, an unwatched
// watch stays silent, and watching again before a cancelled read completes still works.
#include "http/client_watch.h"

#include <gtest/gtest.h>

namespace sluice::http {
namespace {

struct Pair {
  net::io_context ioc;
  tcp::socket server{ioc};
  tcp::socket client{ioc};
  Pair() {
    tcp::acceptor acc{ioc, tcp::endpoint{net::ip::make_address("127.0.0.1"), 0}};
    client.connect(acc.local_endpoint());
    acc.accept(server);
  }
  void run() {
    ioc.restart();
    ioc.run_for(std::chrono::milliseconds(200));
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
  EXPECT_EQ(w->take_pending(), "GET /next HTTP/1.1\r\n\r\n");
  p.client.close();  // a close behind pipelined bytes is not watched any more
  p.run();
  EXPECT_EQ(calls, 0);
  EXPECT_FALSE(w->busy());
}

TEST(ClientWatch, SilentAfterUnwatch) {
  Pair p;
  auto w = std::make_shared<ClientWatch>(p.server);
  int calls = 0;
  w->watch([&] { ++calls; });
  w->unwatch();
  p.run();
  EXPECT_FALSE(w->busy());
  p.client.close();
  p.run();
  EXPECT_EQ(calls, 0);
}

TEST(ClientWatch, WatchAgainBeforeTheCancelledReadCompletes) {
  Pair p;
  auto w = std::make_shared<ClientWatch>(p.server);
  int first = 0, second = 0;
  w->watch([&] { ++first; });
  w->unwatch();  // the cancelled read completes later, on the io_context
  w->watch([&] { ++second; });
  p.run();
  EXPECT_TRUE(w->busy()) << "the cancelled read's handler re-armed the watch";
  p.client.close();
  p.run();
  EXPECT_EQ(first, 0);
  EXPECT_EQ(second, 1);
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
