#pragma once
// Namespace aliases and completion tokens used across the HTTP layer.
#include <boost/asio.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace sluice {
namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = boost::asio::ip::tcp;
using error_code = boost::system::error_code;

// The bytes a beast::flat_buffer holds, as one view (a flat buffer is contiguous).
inline std::string_view buffer_view(const beast::flat_buffer& b) {
  return {static_cast<const char*>(b.data().data()), b.size()};
}

// Errors are values on the data path: every await returns (error_code, ...) instead of throwing.
inline constexpr auto use_tuple = net::as_tuple(net::use_awaitable);
// The same for a hot path: `co_await op(..., await_tuple)` awaits the operation in the awaiting coroutine's
// own frame, where use_tuple allocates a frame for each operation (asio 1.81 awaits deferred operations
// directly).
inline constexpr auto await_tuple = net::as_tuple(net::deferred);
}  // namespace sluice
