#pragma once
// A connected loopback TCP pair on one io_context, for tests of the HTTP layer's socket code. `server` is the
// accepted side (a plain socket, or a beast::tcp_stream for code that takes one), `client` the connecting
// one.
#include <chrono>
#include <type_traits>

#include "http/asio.h"

namespace sluice::http {

template <class ServerSide = tcp::socket>
struct LoopbackPair {
  net::io_context ioc;
  ServerSide server{ioc};
  tcp::socket client{ioc};
  LoopbackPair() {
    tcp::acceptor acc{ioc, tcp::endpoint{net::ip::make_address("127.0.0.1"), 0}};
    client.connect(acc.local_endpoint());
    if constexpr (std::is_same_v<ServerSide, tcp::socket>) {
      acc.accept(server);
    } else {
      acc.accept(server.socket());
    }
  }
  // Runs the handlers that are ready or become ready within `ms`.
  void run(int ms = 200) {
    ioc.restart();
    ioc.run_for(std::chrono::milliseconds(ms));
  }
};

}  // namespace sluice::http
