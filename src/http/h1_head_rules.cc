// Rules of HTTP/1.1 heads outside the grammar's hot loop: bare-LF line ends (RFC 9112 2.2), Host values
// (RFC 9110 7.2), fields that may appear only once (RFC 9112 3.2).
#include "http/h1_head_rules.h"

#include <algorithm>
#include <cstring>

#include "common/strings.h"

namespace sluice::http::h1 {

namespace {
// Host bytes of a reg-name or IPv4address (RFC 3986 3.2.2): unreserved, sub-delims, "%".
constexpr std::array<bool, 256> make_host_bytes() {
  std::array<bool, 256> t{};
  for (int c = 0; c < 256; ++c) {
    const bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    t[c] = alnum || std::string_view("-._~%!$&'()*+,;=").find(static_cast<char>(c)) != std::string_view::npos;
  }
  return t;
}
constexpr std::array<bool, 256> kHostByte = make_host_bytes();
bool host_byte(char c) { return kHostByte[static_cast<unsigned char>(c)]; }
}  // namespace

bool head_has_bare_lf(const char* from, const char* to) {
  for (const char* q = from; q < to; ++q) {
    q = static_cast<const char*>(std::memchr(q, '\n', static_cast<std::size_t>(to - q)));
    if (q == nullptr) {
      return false;
    }
    if (q == from || q[-1] != '\r') {
      return true;
    }
  }
  return false;
}

bool valid_host(std::string_view v) {
  std::size_t i = 0;
  if (!v.empty() && v[0] == '[') {
    const std::size_t close = v.find(']');
    if (close == std::string_view::npos) {
      return false;
    }
    for (i = 1; i < close; ++i) {
      if (!host_byte(v[i]) && v[i] != ':') {
        return false;
      }
    }
    i = close + 1;
  } else {
    while (i < v.size() && host_byte(v[i])) ++i;
  }
  if (i == v.size()) {
    return true;
  }
  if (v[i] != ':') {
    return false;
  }
  for (++i; i < v.size(); ++i) {
    if (v[i] < '0' || v[i] > '9') {
      return false;
    }
  }
  return true;
}

void assign_with_crlf(std::string& out, const char* in, std::size_t n) {
  out.clear();
  out.reserve(n + n / 8 + 2);
  const char* const end = in + n;
  while (in < end) {
    const char* lf = static_cast<const char*>(std::memchr(in, '\n', static_cast<std::size_t>(end - in)));
    if (lf == nullptr) {
      out.append(in, end);
      return;
    }
    out.append(in, lf);
    if (out.empty() || out.back() != '\r') {
      out.push_back('\r');
    }
    out.push_back('\n');
    in = lf + 1;
  }
}

std::string_view repeated_field(const Request& r) {
  const Fields& f = r.fields();
  for (std::size_t i = 1; i < f.size(); ++i) {
    const std::string_view name = f[i].name;
    const bool singleton = std::any_of(kSingletonFields.begin(), kSingletonFields.end(),
                                       [&](std::string_view s) { return equals_lower(name, s); });
    for (std::size_t j = 0; singleton && j < i; ++j) {
      if (iequals_ascii(f[j].name, name)) return name;
    }
  }
  return {};
}

}  // namespace sluice::http::h1
