#pragma once
// Which client headers travel upstream (docs/security.md): an allow-list. The gateway speaks to a provider
// with its own key on the client's behalf, so nothing the client sent is forwarded unless it is known to be
// safe: W3C trace context by default, plus the names an upstream's `forward_headers` lists. Credentials,
// hop-by-hop fields, sluice's own control headers and client-claimed addresses never travel, whatever the
// config says.
#include <span>
#include <string>
#include <string_view>

#include "common/strings.h"

namespace sluice {

// Names that may never be forwarded (the config loader rejects them in `forward_headers`). Lowercase.
inline bool never_forwarded_header(std::string_view name) {
  static constexpr std::string_view kNever[] = {"authorization",
                                                "proxy-authorization",
                                                "api-key",
                                                "x-api-key",
                                                "cookie",
                                                "set-cookie",
                                                "host",
                                                "content-length",
                                                "content-type",
                                                "transfer-encoding",
                                                "te",
                                                "trailer",
                                                "upgrade",
                                                "expect",
                                                "connection",
                                                "keep-alive",
                                                "proxy-connection",
                                                "accept",
                                                "accept-encoding",
                                                "user-agent",
                                                "x-request-id",
                                                "x-priority",
                                                "x-request-timeout",
                                                "forwarded",
                                                "x-forwarded-for",
                                                "x-forwarded-host",
                                                "x-forwarded-proto",
                                                "x-real-ip",
                                                "via",
                                                "openai-organization",
                                                "openai-project"};
  for (const auto n : kNever) {
    if (equals_lower(name, n)) {
      return true;
    }
  }
  return name.size() >= 9 && equals_lower(name.substr(0, 9), "x-sluice-");
}

// True for a client header the upstream gets: trace context, or a name in `extra` (lowercase, validated).
inline bool forwardable_header(std::string_view name, std::span<const std::string> extra) {
  if (equals_lower(name, "traceparent") || equals_lower(name, "tracestate")) {
    return true;
  }
  for (const auto& e : extra) {
    if (equals_lower(name, e)) {
      return true;
    }
  }
  return false;
}

// RFC 9110 §7.6.1: a field named in the client's Connection header is hop-by-hop even when allowed.
inline bool named_in_connection(std::string_view name, std::string_view connection) {
  bool named = false;
  for_each_list_item(connection,
                     [&](std::string_view token) { named = named || iequals_ascii(token, name); });
  return named;
}

}  // namespace sluice
