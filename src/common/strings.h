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

// Calls f(item) for each non-empty item of a comma-separated HTTP list (RFC 9110 5.6.1), trimmed of
// spaces and tabs.
template <class F>
void for_each_list_item(std::string_view list, F&& f) {
  for (;;) {
    const std::size_t comma = list.find(',');
    if (const std::string_view item = trim(list.substr(0, comma)); !item.empty()) {
      f(item);
    }
    if (comma == std::string_view::npos) {
      return;
    }
    list.remove_prefix(comma + 1);
  }
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
