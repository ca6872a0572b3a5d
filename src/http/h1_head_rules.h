#pragma once
// Rules of HTTP/1.1 heads outside the grammar's hot loop (h1.cc): bare-LF line ends, Host values, fields that
// may appear only once.
#include <array>
#include <cstddef>
#include <string>
#include <string_view>

#include "http/h1.h"

namespace sluice::http::h1 {

// Request fields that must appear at most once: Host (RFC 9112 3.2); the caller's credentials, so a proxy in
// front and the gateway cannot disagree about who calls; and what the gateway decides on (the body's media
// type, the priority class, the client's deadline). Index = bit in Facts::singletons_seen.
inline constexpr std::array<std::string_view, 6> kSingletonFields = {
    "host", "authorization", "content-type", "x-priority", "x-request-timeout", "x-sluice-admin-key"};
inline constexpr std::size_t kHostIndex = 0;

// RFC 9110 7.2: Host = uri-host [":" port], uri-host an IP-literal in brackets or a reg-name / IPv4address.
// An empty value is allowed (a target without an authority). Percent-escapes are not decoded.
bool valid_host(std::string_view v);

// Whether an LF in [from, to) lacks the CR before it (an LF at `from` itself counts as bare).
bool head_has_bare_lf(const char* from, const char* to);

// `out` = the head in[0, n) with every bare LF line end made CRLF, so a parser sees one kind of line end.
void assign_with_crlf(std::string& out, const char* in, std::size_t n);

}  // namespace sluice::http::h1
