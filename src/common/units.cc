#include "common/units.h"

#include <array>
#include <cstdint>
#include <limits>

namespace sluice {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Parses a run of decimal digits at the front of `text` into `out`, advancing `text`.
// Returns false on overflow or when there are no digits.
bool take_digits(std::string_view& text, uint64_t& out) {
  std::size_t n = 0;
  out = 0;
  while (n < text.size() && is_digit(text[n])) {
    const uint64_t digit = static_cast<uint64_t>(text[n] - '0');
    if (out > (std::numeric_limits<uint64_t>::max() - digit) / 10) {
      return false;
    }
    out = out * 10 + digit;
    ++n;
  }
  text.remove_prefix(n);
  return n > 0;
}

bool checked_mul(uint64_t a, uint64_t b, uint64_t& out) { return !__builtin_mul_overflow(a, b, &out); }

struct Unit {
  std::string_view suffix;
  uint64_t factor;
};

}  // namespace

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
  uint64_t whole = 0;
  if (!take_digits(text, whole)) {
    return std::nullopt;
  }
  // Fraction kept as numerator/denominator so "1.5s" is exact without floating point.
  uint64_t frac = 0;
  uint64_t frac_scale = 1;
  const bool has_fraction = !text.empty() && text.front() == '.';
  if (has_fraction) {
    text.remove_prefix(1);
    std::string_view digits = text;
    std::size_t n = 0;
    while (n < digits.size() && is_digit(digits[n])) {
      ++n;
    }
    digits = digits.substr(0, n);
    text.remove_prefix(n);
    while (!digits.empty() && digits.back() == '0') {
      digits.remove_suffix(1);
    }
    if (n == 0 || digits.size() > 9) {  // "1.s", or finer than any unit can express in ms
      return std::nullopt;
    }
    for (char c : digits) {
      frac = frac * 10 + static_cast<uint64_t>(c - '0');
      frac_scale *= 10;
    }
  }
  static constexpr std::array<Unit, 4> kUnits{{{"ms", 1}, {"s", 1000}, {"m", 60'000}, {"h", 3'600'000}}};
  uint64_t factor = 0;
  if (text.empty()) {
    if (has_fraction) {  // a bare number is milliseconds; a fraction of one is meaningless
      return std::nullopt;
    }
    factor = 1;
  }
  for (const Unit& u : kUnits) {
    if (text == u.suffix) {
      factor = u.factor;
    }
  }
  if (factor == 0) {
    return std::nullopt;
  }
  uint64_t total = 0;
  if (!checked_mul(whole, factor, total)) {
    return std::nullopt;
  }
  const uint64_t frac_ms = frac * factor;  // frac < 1e9 and factor <= 3.6e6: no overflow
  if (frac_ms % frac_scale != 0) {
    return std::nullopt;
  }
  total += frac_ms / frac_scale;
  if (total > static_cast<uint64_t>(std::numeric_limits<std::chrono::milliseconds::rep>::max())) {
    return std::nullopt;
  }
  return std::chrono::milliseconds(static_cast<std::chrono::milliseconds::rep>(total));
}

std::optional<std::size_t> parse_size(std::string_view text) {
  uint64_t n = 0;
  if (!take_digits(text, n)) {
    return std::nullopt;
  }
  static constexpr std::array<Unit, 8> kUnits{{{"", 1},
                                               {"B", 1},
                                               {"KB", 1000},
                                               {"KiB", uint64_t{1} << 10},
                                               {"MB", 1000 * 1000},
                                               {"MiB", uint64_t{1} << 20},
                                               {"GB", 1000 * 1000 * 1000},
                                               {"GiB", uint64_t{1} << 30}}};
  for (const Unit& u : kUnits) {
    if (text == u.suffix) {
      uint64_t total = 0;
      if (!checked_mul(n, u.factor, total) || total > std::numeric_limits<std::size_t>::max()) {
        return std::nullopt;
      }
      return static_cast<std::size_t>(total);
    }
  }
  return std::nullopt;
}

std::string format_duration(std::chrono::milliseconds d) {
  const auto ms = d.count();
  if (ms < 0) {
    return "-" + format_duration(std::chrono::milliseconds(-ms));
  }
  if (ms == 0) {
    return "0s";
  }
  if (ms % 3'600'000 == 0) {
    return std::to_string(ms / 3'600'000) + "h";
  }
  if (ms % 60'000 == 0) {
    return std::to_string(ms / 60'000) + "m";
  }
  if (ms < 1000) {
    return std::to_string(ms) + "ms";
  }
  std::string out = std::to_string(ms / 1000);
  if (const auto rest = ms % 1000; rest != 0) {
    std::string frac = std::to_string(rest);
    frac.insert(0, 3 - frac.size(), '0');
    while (frac.back() == '0') {
      frac.pop_back();
    }
    out += "." + frac;
  }
  return out + "s";
}

}  // namespace sluice
