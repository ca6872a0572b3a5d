#pragma once
// Small string_view helpers shared by parsers of headers, CLI specs and response bodies.
#include <string_view>

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

}  // namespace sluice
