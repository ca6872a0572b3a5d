#pragma once
// Runs one coroutine to completion on an io_context that other work (Redis connections) keeps busy.
#include "http/asio.h"

namespace sluice::state::testing {

template <class T, class F>
T run_coro(net::io_context& ioc, F f) {
  T out{};
  bool done = false;
  net::co_spawn(ioc, [&]() -> net::awaitable<void> {
    out = co_await f();
    done = true;
  }, net::detached);
  ioc.restart();
  while (!done) {
    ioc.run_one();
  }
  return out;
}

}  // namespace sluice::state::testing
