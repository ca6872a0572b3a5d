#pragma once
// Client headers that do not travel upstream: hop-by-hop ones, ones the gateway sets itself, client
// credentials, and Accept-Encoding (the relay reads SSE and JSON, so the upstream must answer uncompressed).
#include <string_view>

#include "common/strings.h"

namespace sluice::gateway {

inline bool forwardable_header(std::string_view name) {
  auto is = [&name](std::string_view lower) { return equals_lower(name, lower); };
  switch (name.size()) {  // by length first: one comparison at most for most fields
    case 2:
      return !is("te");
    case 4:
      return !is("host");
    case 6:
      return !is("accept") && !is("cookie") && !is("expect");
    case 7:
      return !is("api-key") && !is("trailer") && !is("upgrade");
    case 9:
      return !is("x-api-key");
    case 10:
      return !is("connection") && !is("keep-alive") && !is("user-agent");
    case 12:
      return !is("content-type") && !is("x-request-id");
    case 13:
      return !is("authorization");
    case 14:
      return !is("content-length");
    case 15:
      return !is("accept-encoding");
    case 16:
      return !is("proxy-connection");
    case 17:
      return !is("transfer-encoding") && !is("x-request-timeout");
    case 19:
      return !is("proxy-authorization");
    default:
      return true;
  }
}

}  // namespace sluice::gateway
