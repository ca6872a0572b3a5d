#pragma once
// Builds a short text from many small pieces (an HTTP head: ~40 of them). The pieces go into a buffer on the
// stack, and the string receives them in one append when the writer ends (or when the buffer fills). A
// std::string built piece by piece re-checks its capacity and calls out of line for each piece, and one
// resized in advance to write into would be zero-filled first.
#include <charconv>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>

namespace sluice {

class StringWriter {
 public:
  // Writes after what `out` holds.
  explicit StringWriter(std::string& out) : out_(out) {}
  ~StringWriter() { out_.append(buf_, used_); }
  StringWriter(const StringWriter&) = delete;
  StringWriter& operator=(const StringWriter&) = delete;

  [[gnu::always_inline]] StringWriter& operator<<(std::string_view s) {
    if (s.size() > kBuffer - used_) [[unlikely]] {
      spill(s);
    } else if (!s.empty()) {
      std::memcpy(buf_ + used_, s.data(), s.size());
      used_ += s.size();
    }
    return *this;
  }
  [[gnu::always_inline]] StringWriter& operator<<(char c) {
    if (used_ == kBuffer) [[unlikely]] {
      flush();
    }
    buf_[used_++] = c;
    return *this;
  }
  template <class Int>
  requires(std::is_integral_v<Int> && !std::is_same_v<Int, char> && !std::is_same_v<Int, bool>) StringWriter&
  operator<<(Int n) {
    if (kBuffer - used_ < kIntChars) [[unlikely]] {
      flush();
    }
    used_ = static_cast<std::size_t>(std::to_chars(buf_ + used_, buf_ + kBuffer, n).ptr - buf_);
    return *this;
  }
  // One HTTP header line, "name: value\r\n".
  [[gnu::always_inline]] void field(std::string_view name, std::string_view value) {
    const std::size_t n = name.size() + value.size() + 4;
    if (n > kBuffer - used_) [[unlikely]] {
      *this << name << std::string_view(": ") << value << std::string_view("\r\n");
      return;
    }
    char* p = buf_ + used_;
    std::memcpy(p, name.data(), name.size());
    p += name.size();
    std::memcpy(p, ": ", 2);
    p += 2;
    if (!value.empty()) {
      std::memcpy(p, value.data(), value.size());
      p += value.size();
    }
    std::memcpy(p, "\r\n", 2);
    used_ += n;
  }

 private:
  static constexpr std::size_t kBuffer = 1024;
  static constexpr std::size_t kIntChars = 24;  // any 64-bit integer, sign included

  void flush() {
    out_.append(buf_, used_);
    used_ = 0;
  }
  // A piece that does not fit what is left of the buffer.
  void spill(std::string_view s) {
    flush();
    if (s.size() >= kBuffer) {
      out_.append(s);
    } else {
      std::memcpy(buf_, s.data(), s.size());
      used_ = s.size();
    }
  }

  std::string& out_;
  std::size_t used_ = 0;
  char buf_[kBuffer];
};

}  // namespace sluice
