#pragma once
// The portable I/O seam (docs/architecture.md): reads that skip asio's wasted speculative recv on sockets known
// to be empty. The fast path (ready_read_asio181.h) is built on asio 1.81's epoll reactor internals; every other
// Boost version gets the portable fallback below (plain async_read_some, no TCP_INQ), which costs a syscall per
// read but never the build. CMake chooses (SLUICE_PORTABLE_IO, forced ON for any Boost but 1.81).
#include "http/asio.h"

namespace sluice::http {

// Where a ready read puts its bytes, asked for only when the recv is about to run: an owner that waits long
// for its peer (a stream before its first token, a keep-alive client between requests) holds no buffer
// while it waits. The fast path asks once the socket is readable (or on asio's first speculative try, when
// give_back() follows an empty recv); the portable fallback asks up front.
class ReadSpace {
 public:
  virtual net::mutable_buffer take() = 0;  // non-empty
  virtual void give_back() noexcept {}     // the recv found nothing to read
 protected:
  ~ReadSpace() = default;
};

}  // namespace sluice::http

#if !SLUICE_PORTABLE_IO
#include "http/ready_read_asio181.h"
#else

namespace sluice::http {

// Stands in for the fast path's reactor handle: nothing to find.
class ReadyReactor {
 public:
  ReadyReactor() = default;
  explicit ReadyReactor(tcp::socket&) {}
};

// The fast path asks the kernel for TCP_INQ here; the fallback has no use for it.
inline void enable_read_ready(tcp::socket&) {}

// A plain read (completion: error_code, bytes).
template <class Token>
auto async_read_ready(tcp::socket& sock, ReadyReactor, net::mutable_buffer buf, Token&& token) {
  return sock.async_read_some(buf, std::forward<Token>(token));
}
template <class Token>
auto async_read_ready(tcp::socket& sock, ReadyReactor, ReadSpace& space, Token&& token) {
  return sock.async_read_some(space.take(), std::forward<Token>(token));
}

}  // namespace sluice::http
#endif
