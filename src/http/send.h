#pragma once
// Writes that try one non-blocking send first: most messages fit the socket's send buffer, and then no
// asynchronous write (nor its timer, nor a coroutine frame) is started at all. Only what did not fit is
// written asynchronously, from where the send stopped.
#include "http/asio.h"

namespace sluice::http {

// One non-blocking send on `sock` (which must be in non-blocking mode): the bytes the kernel took. `ec` is
// set only for a real error; a full send buffer is not one.
template <class Buffers>
std::size_t send_now(tcp::socket& sock, const Buffers& buffers, error_code& ec) {
  const std::size_t sent = sock.write_some(buffers, ec);
  if (ec == net::error::would_block || ec == net::error::try_again) {
    ec = {};
  }
  return sent;
}

// `buffers` without their first `n` bytes: what is left to write after a partial send.
template <class Buffers>
beast::buffers_suffix<Buffers> unsent(const Buffers& buffers, std::size_t n) {
  beast::buffers_suffix<Buffers> rest{buffers};
  rest.consume(n);
  return rest;
}

}  // namespace sluice::http
