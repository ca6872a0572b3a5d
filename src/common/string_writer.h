#pragma once
// Builds a short text from many small pieces (an HTTP head: ~40 of them) through a raw cursor. Each
// std::string::append re-checks capacity and calls out of line; here a piece is a bounds check and a memcpy,
// and the string is grown rarely.
#include <algorithm>
#include <charconv>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>

namespace sluice {

class StringWriter {
 public:
  // Writes after what `out` holds; `reserve` is the expected final size (it grows past it when needed).
  StringWriter(std::string& out, std::size_t reserve) : out_(out), used_(out.size()) {
    out_.resize(std::max(reserve, used_ + 64));
  }
  // Trims `out` to what was written.
  ~StringWriter() { out_.resize(used_); }
  StringWriter(const StringWriter&) = delete;
  StringWriter& operator=(const StringWriter&) = delete;

  StringWriter& operator<<(std::string_view s) {
    char* p = room(s.size());
    if (!s.empty()) {
      std::memcpy(p, s.data(), s.size());
    }
    used_ += s.size();
    return *this;
  }
  StringWriter& operator<<(char c) {
    *room(1) = c;
    ++used_;
    return *this;
  }
  template <class Int>
  requires(std::is_integral_v<Int> && !std::is_same_v<Int, char> && !std::is_same_v<Int, bool>) StringWriter&
  operator<<(Int n) {
    char* p = room(24);
    used_ = static_cast<std::size_t>(std::to_chars(p, p + 24, n).ptr - out_.data());
    return *this;
  }
  // One HTTP header line, "name: value\r\n".
  void field(std::string_view name, std::string_view value) {
    *this << name << std::string_view(": ") << value << std::string_view("\r\n");
  }

 private:
  // Where `n` more bytes go.
  char* room(std::size_t n) {
    if (out_.size() - used_ < n) [[unlikely]] {
      out_.resize(std::max(out_.size() * 2, used_ + n));
    }
    return out_.data() + used_;
  }

  std::string& out_;
  std::size_t used_;
};

}  // namespace sluice
