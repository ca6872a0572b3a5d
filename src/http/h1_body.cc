// h1::BodyDecoder: Content-Length, chunked (RFC 9112 section 7.1) and close-delimited bodies.
#include <algorithm>
#include <cstring>

#include "http/h1.h"

namespace sluice::http::h1 {

namespace {

constexpr std::size_t kMaxSizeLine = 4096;      // chunk size plus extensions
constexpr std::size_t kMaxTrailer = 16 * 1024;  // the whole trailer section
constexpr std::size_t kMaxSizeDigits = 16;      // 64 bits

inline int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
// HTAB, SP, VCHAR, obs-text: what a chunk extension may hold.
inline bool ext_byte(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u == '\t' || (u >= 0x20 && u != 0x7F);
}

}  // namespace

void BodyDecoder::reset(Framing framing, std::uint64_t content_length, std::uint64_t limit) {
  framing_ = framing;
  error_ = Error::kNone;
  done_ = false;
  size_digits_ = false;
  left_ = 0;
  decoded_ = 0;
  limit_ = limit;
  line_bytes_ = 0;
  trailer_bytes_ = 0;
  switch (framing) {
    case Framing::kNone:
      state_ = State::kDone;
      done_ = true;
      break;
    case Framing::kLength:
      left_ = content_length;
      state_ = State::kData;
      if (content_length > limit) {
        error_ = Error::kBodyTooLarge;
      } else if (content_length == 0) {
        state_ = State::kDone;
        done_ = true;
      }
      break;
    case Framing::kChunked:
      state_ = State::kSize;
      break;
    case Framing::kUntilClose:
      state_ = State::kData;
      break;
  }
}

BodyDecoder::Step BodyDecoder::decode(std::string_view in, std::span<char> out) {
  Step step;
  if (error_ != Error::kNone) {
    step.error = error_;
    return step;
  }
  if (done_) return step;

  if (framing_ != Framing::kChunked) {
    // kLength or kUntilClose: the input is the body.
    std::size_t n = std::min(in.size(), out.size());
    if (framing_ == Framing::kLength) n = static_cast<std::size_t>(std::min<std::uint64_t>(n, left_));
    if (n > limit_ - decoded_) {  // only a close-delimited body can get here
      n = static_cast<std::size_t>(limit_ - decoded_);
      error_ = Error::kBodyTooLarge;
    }
    if (n > 0) std::memcpy(out.data(), in.data(), n);
    decoded_ += n;
    if (framing_ == Framing::kLength) {
      left_ -= n;
      if (left_ == 0) {
        state_ = State::kDone;
        done_ = true;
      }
    }
    step.used = step.produced = n;
    step.error = error_;
    return step;
  }

  // Chunked: a byte-wise state machine for the framing, memcpy for the data. Input is consumed while it lasts
  // even when `out` is full, up to the next data byte, so a body that fills `out` exactly still completes.
  const char* p = in.data();
  const char* const end = p + in.size();
  char* o = out.data();
  char* const o_end = o + out.size();
  Error err = Error::kNone;
  while (p < end && state_ != State::kDone && err == Error::kNone) {
    if (state_ == State::kData) {
      const std::size_t n =
          static_cast<std::size_t>(std::min<std::uint64_t>(left_, std::min<std::size_t>(end - p, o_end - o)));
      if (n == 0) break;  // `out` is full
      std::memcpy(o, p, n);
      p += n;
      o += n;
      left_ -= n;
      decoded_ += n;
      if (left_ == 0) state_ = State::kDataCr;
      continue;
    }
    const char c = *p;
    switch (state_) {
      case State::kSize:
        if (const int v = hex_value(c); v >= 0) {
          if (line_bytes_ == kMaxSizeDigits) {
            err = Error::kBadChunk;
            break;
          }
          left_ = (left_ << 4) | static_cast<unsigned>(v);
          size_digits_ = true;
        } else if (!size_digits_) {
          err = Error::kBadChunk;
        } else if (c == '\r') {
          state_ = State::kSizeLf;
        } else if (c == ';' || c == ' ' || c == '\t') {
          // BWS before ";" is treated as the start of the extensions, which are not interpreted.
          state_ = State::kSizeExt;
        } else {
          err = Error::kBadChunk;
        }
        ++line_bytes_;
        break;
      case State::kSizeExt:
        if (c == '\r') {
          state_ = State::kSizeLf;
        } else if (!ext_byte(c) || ++line_bytes_ > kMaxSizeLine) {
          err = Error::kBadChunk;
        }
        break;
      case State::kSizeLf:
        // Ends a size line, or a trailer line (left_ is 0 there; an empty line has line_bytes_ 0).
        if (c != '\n') {
          err = Error::kBadChunk;
        } else if (left_ > 0) {
          if (left_ > limit_ - decoded_) {
            err = Error::kBodyTooLarge;
            break;
          }
          state_ = State::kData;
        } else if (line_bytes_ == 0) {
          state_ = State::kDone;
          done_ = true;
        } else {
          state_ = State::kTrailer;  // after the last chunk or after a trailer line
        }
        line_bytes_ = 0;
        break;
      case State::kDataCr:
        if (c == '\r') {
          state_ = State::kDataLf;
        } else {
          err = Error::kBadChunk;
        }
        break;
      case State::kDataLf:
        if (c == '\n') {
          state_ = State::kSize;
          size_digits_ = false;
          left_ = 0;
          line_bytes_ = 0;
        } else {
          err = Error::kBadChunk;
        }
        break;
      case State::kTrailer:
        // Trailer fields are dropped unread; only the line structure and the size are checked.
        if (c == '\r') {
          state_ = State::kSizeLf;
        } else if (c == '\n') {
          err = Error::kBadChunk;
        } else {
          ++line_bytes_;
        }
        if (++trailer_bytes_ > kMaxTrailer) err = Error::kBadChunk;
        break;
      case State::kData:
      case State::kDone:
        break;
    }
    if (err == Error::kNone) ++p;
  }
  step.used = static_cast<std::size_t>(p - in.data());
  step.produced = static_cast<std::size_t>(o - out.data());
  if (err != Error::kNone) error_ = err;
  step.error = error_;
  return step;
}

BodyDecoder::Step BodyDecoder::decode_append(std::string_view in, std::string& out) {
  if (error_ != Error::kNone || done_ || in.empty()) return decode(in, {});
  // The body bytes in `in` are at most in.size() (fewer for a short Content-Length body); one byte past the
  // limit lets a close-delimited body see that it went over.
  std::size_t want = in.size();
  if (framing_ == Framing::kLength) want = static_cast<std::size_t>(std::min<std::uint64_t>(want, left_));
  if (want > limit_ - decoded_) want = static_cast<std::size_t>(limit_ - decoded_) + 1;
  const std::size_t old = out.size();
  out.resize(old + want);
  const Step step = decode(in, std::span<char>(out.data() + old, want));
  out.resize(old + step.produced);
  return step;
}

Error BodyDecoder::finish() {
  if (error_ != Error::kNone) return error_;
  if (done_) return Error::kNone;
  if (framing_ == Framing::kUntilClose) {
    state_ = State::kDone;
    done_ = true;
    return Error::kNone;
  }
  error_ = Error::kTruncated;
  return error_;
}

}  // namespace sluice::http::h1
