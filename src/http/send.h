#pragma once
// Writes that try one non-blocking send first: most messages fit the socket's send buffer, and then no
// asynchronous write (nor its timer) is started at all. Only what did not fit goes through `write_rest`.
#include <tuple>

#include "http/asio.h"

namespace sluice::http {

// `sock` must be in non-blocking mode. `write_rest(buffers_suffix<Buffers>&)` returns
// awaitable<tuple<error_code, size_t>> for the part the kernel did not take at once.
template <class Buffers, class WriteRest>
net::awaitable<std::tuple<error_code, std::size_t>> send_then_write(tcp::socket& sock, const Buffers& buffers,
                                                                    WriteRest write_rest) {
  error_code ec;
  const std::size_t total = net::buffer_size(buffers);
  const std::size_t sent = sock.write_some(buffers, ec);
  if (ec == net::error::would_block || ec == net::error::try_again) {
    ec = {};
  }
  if (ec || sent == total) {
    co_return std::tuple{ec, sent};
  }
  beast::buffers_suffix<Buffers> rest{buffers};
  rest.consume(sent);
  auto [wec, n] = co_await write_rest(rest);
  co_return std::tuple{wec, sent + n};
}

}  // namespace sluice::http
