// Finding the number simdjson could not hold (it says only "Problem while parsing a number"), to name the
// member and say what is wrong. Runs on that error path only: a scan of the body that tracks the member path.
#include <fmt/format.h>

#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

#include "openai/validate.h"

namespace sluice::openai::validate {

namespace {

struct PathLevel {
  bool object = false;
  bool want_key = false;  // an object's next string is a key
  std::string key;        // object: the current member
  std::size_t index = 0;  // array: the current element
};

std::string path_of(const std::vector<PathLevel>& levels) {
  std::string path;
  for (const PathLevel& l : levels) {
    if (l.object) {
      path += path.empty() ? l.key : "." + l.key;
    } else {
      path += fmt::format("[{}]", l.index);
    }
  }
  return path;
}

// The end of the string that starts at body[i] (its opening quote), one past the closing quote. `text` gets
// its content with \" \\ \/ unescaped (other escapes are kept as written: the text only names a member).
std::size_t skip_string(std::string_view body, std::size_t i, std::string* text) {
  for (++i; i < body.size() && body[i] != '"'; ++i) {
    if (body[i] == '\\' && i + 1 < body.size()) {
      ++i;
      if (text && std::string_view("\"\\/").find(body[i]) == std::string_view::npos) {
        text->push_back('\\');
      }
    }
    if (text) {
      text->push_back(body[i]);
    }
  }
  return i + 1;
}

constexpr auto npos = std::string_view::npos;
bool digit(char c) { return c >= '0' && c <= '9'; }

enum class Number : std::uint8_t { kFits, kOutOfRange, kMalformed };

// RFC 8259 number grammar, then the range simdjson holds: int64 / uint64 for integers, a finite double.
Number classify(std::string_view t) {
  std::size_t i = t.starts_with('-') ? 1 : 0;
  const std::size_t int_at = i;
  if (i >= t.size() || !digit(t[i]) || (t[i] == '0' && i + 1 < t.size() && digit(t[i + 1]))) {
    return Number::kMalformed;
  }
  while (i < t.size() && digit(t[i])) ++i;
  const std::string_view digits = t.substr(int_at, i - int_at);
  bool integer = true;
  if (i < t.size() && t[i] == '.') {
    integer = false;
    if (++i >= t.size() || !digit(t[i])) return Number::kMalformed;
    while (i < t.size() && digit(t[i])) ++i;
  }
  if (i < t.size() && (t[i] == 'e' || t[i] == 'E')) {
    integer = false;
    if (++i < t.size() && (t[i] == '+' || t[i] == '-')) ++i;
    if (i >= t.size() || !digit(t[i])) return Number::kMalformed;
    while (i < t.size() && digit(t[i])) ++i;
  }
  if (i != t.size()) {
    return Number::kMalformed;
  }
  if (integer) {
    const std::string_view limit = int_at == 1 ? "9223372036854775808" : "18446744073709551615";
    const bool over = digits.size() > limit.size() || (digits.size() == limit.size() && digits > limit);
    return over ? Number::kOutOfRange : Number::kFits;
  }
  return std::isinf(std::strtod(std::string(t).c_str(), nullptr)) ? Number::kOutOfRange : Number::kFits;
}

RequestError out_of_range(std::string param, std::string_view token) {
  const std::string shown = token.size() > 40 ? std::string(token.substr(0, 40)) + "..." : std::string(token);
  std::string message = fmt::format(
      "Invalid '{}': the number {} is out of range. Integers must lie within -2^63 .. 2^64-1 and decimals "
      "within "
      "the range of a 64-bit float (about 1.8e308).",
      param.empty() ? "request body" : param, shown);
  return {std::move(message), std::move(param), "invalid_value"};
}

}  // namespace

std::optional<RequestError> number_out_of_range(std::string_view body) {
  constexpr std::size_t kMaxDepth = 1024;
  std::vector<PathLevel> levels;
  for (std::size_t i = 0; i < body.size();) {
    const char c = body[i];
    if (c == '{' || c == '[') {
      if (levels.size() == kMaxDepth) return std::nullopt;
      levels.push_back({c == '{', c == '{', {}, 0});
      ++i;
    } else if (c == '}' || c == ']') {
      if (levels.empty()) return std::nullopt;
      levels.pop_back();
      ++i;
    } else if (c == ',') {
      if (levels.empty()) return std::nullopt;
      levels.back().object ? void(levels.back().want_key = true) : void(++levels.back().index);
      ++i;
    } else if (c == '"') {
      const bool key = !levels.empty() && levels.back().object && levels.back().want_key;
      if (key) {
        levels.back().key.clear();
        levels.back().want_key = false;
      }
      i = skip_string(body, i, key ? &levels.back().key : nullptr);
    } else if (c == '-' || digit(c)) {
      std::size_t end = i;
      while (end < body.size() && (digit(body[end]) || std::string_view("+-.eE").find(body[end]) != npos)) {
        ++end;
      }
      const std::string_view token = body.substr(i, end - i);
      switch (classify(token)) {
        case Number::kOutOfRange:
          return out_of_range(path_of(levels), token);
        case Number::kMalformed:
          return std::nullopt;  // not a number problem of range: the generic message says it
        case Number::kFits:
          break;
      }
      i = end;
    } else {
      ++i;  // whitespace, ':', literals
    }
  }
  return std::nullopt;
}

}  // namespace sluice::openai::validate
