#pragma once
// Small string helpers shared by parsers of headers, CLI specs and response bodies.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
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

namespace strings_detail {
template <class Word>
Word load(const char* p) {
  Word w;
  std::memcpy(&w, p, sizeof w);
  return w;
}
// Each byte of `w` with 'A'..'Z' turned into 'a'..'z', eight at a time (bytes >= 0x80 are left alone).
inline std::uint64_t ascii_lower(std::uint64_t w) {
  constexpr std::uint64_t kOnes = 0x0101010101010101ull;
  const std::uint64_t low7 = w & (0x7f * kOnes);
  const std::uint64_t ge_a = low7 + (0x80 - 'A') * kOnes;  // high bit set: byte >= 'A'
  const std::uint64_t gt_z = low7 + (0x7f - 'Z') * kOnes;  // high bit set: byte > 'Z'
  const std::uint64_t upper = (ge_a & ~gt_z & ~w) & (0x80 * kOnes);
  return w | (upper >> 2);  // 0x80 >> 2 is 0x20, the case bit
}
// Whether the `Word`-sized runs at `s` and `lower` match; `Word` is 4 or 8 bytes.
template <class Word>
bool word_matches(const char* s, const char* lower) {
  return static_cast<Word>(ascii_lower(load<Word>(s))) == load<Word>(lower);
}
}  // namespace strings_detail

// ASCII case-insensitive equality of `s` with a lowercase name: how HTTP field names compare. Length first,
// then whole words: the last word overlaps the one before instead of a byte loop for the tail.
inline bool equals_lower(std::string_view s, std::string_view lower) {
  using strings_detail::word_matches;
  const std::size_t n = s.size();
  if (n != lower.size()) {
    return false;
  }
  if (n >= 8) {
    for (std::size_t i = 0; i + 8 < n; i += 8) {
      if (!word_matches<std::uint64_t>(s.data() + i, lower.data() + i)) {
        return false;
      }
    }
    return word_matches<std::uint64_t>(s.data() + n - 8, lower.data() + n - 8);
  }
  if (n >= 4) {
    return word_matches<std::uint32_t>(s.data(), lower.data()) &&
           word_matches<std::uint32_t>(s.data() + n - 4, lower.data() + n - 4);
  }
  for (std::size_t i = 0; i < n; ++i) {
    const char c = s[i];
    if (static_cast<char>(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c) != lower[i]) {
      return false;
    }
  }
  return true;
}

// ASCII case-insensitive equality where neither side is known to be lowercase (tokens of a header list).
inline bool iequals_ascii(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + ('a' - 'A')) : c; };
    if (lower(a[i]) != lower(b[i])) {
      return false;
    }
  }
  return true;
}

// The credentials of an `Authorization: Bearer <token>` value (RFC 6750; the scheme in any case, spaces
// before the token skipped); nullopt for any other scheme or a value without one. May be empty.
inline std::optional<std::string_view> bearer_token(std::string_view authorization) {
  constexpr std::string_view kScheme = "bearer ";
  if (authorization.size() < kScheme.size() ||
      !equals_lower(authorization.substr(0, kScheme.size()), kScheme)) {
    return std::nullopt;
  }
  std::string_view token = authorization.substr(kScheme.size());
  token.remove_prefix(std::min(token.find_first_not_of(' '), token.size()));
  return token;
}

// The path of a request target, without its query string.
inline std::string_view strip_query(std::string_view target) { return target.substr(0, target.find('?')); }

}  // namespace sluice
