#pragma once
// Small string helpers shared by parsers of headers, CLI specs and response bodies, and by the code that
// serializes HTTP heads.
#include <charconv>
#include <string>
#include <string_view>
#include <type_traits>

namespace sluice {

// The whitespace JSON allows around values (RFC 8259).
inline constexpr std::string_view kJsonWhitespace = " \t\r\n";

// `s` without leading and trailing characters from `chars` (by default spaces and tabs).
inline std::string_view trim(std::string_view s, std::string_view chars = " \t") {
  const auto b = s.find_first_not_of(chars);
  if (b == std::string_view::npos) {
    return {};
  }
  return s.substr(b, s.find_last_not_of(chars) - b + 1);
}

// The path of a request target, without its query string.
inline std::string_view strip_query(std::string_view target) { return target.substr(0, target.find('?')); }

// Appends the decimal form of `n` without the temporary string std::to_string builds.
template <class Int>
requires std::is_integral_v<Int>
void append_number(std::string& out, Int n) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, n);
  out.append(buf, static_cast<std::size_t>(r.ptr - buf));
}

// Appends one HTTP header line, "name: value\r\n".
inline void append_field(std::string& out, std::string_view name, std::string_view value) {
  out += name;
  out += std::string_view(": ");
  out += value;
  out += std::string_view("\r\n");
}

}  // namespace sluice
