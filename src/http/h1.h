#pragma once
// HTTP/1.1 message heads and bodies (RFC 9112), parsed by hand for the proxy's hot path: the client's
// request in the session and the upstream's response in the gateway.
//
// Why not beast's parser: it walks a head byte by byte, looks every name up in a field table and copies each
// field into a red-black-tree map with its own allocation. Counted under callgrind that was ~4.5k
// instructions per head, two heads per proxied request: a fifth of the gateway's user-space work. Here the
// end of a head is found by hopping from line feed to line feed with memchr, the head is copied once into
// storage its message owns (reused across the requests of a connection), and split into (name, value)
// offsets; lookups scan that short list.
//
// Strict where laxness enables request smuggling or response splitting (RFC 9112 sections 6.3 and 11):
// obs-fold, whitespace before a colon, control characters (a bare CR among them) in a value, conflicting
// Content-Length values, a request's Transfer-Encoding other than a final "chunked", and a request with both
// Transfer-Encoding and Content-Length are rejected. Lines of a head may end in a bare LF (RFC 9112 2.2 lets a
// recipient accept it; a field value cannot hold an LF, so the line structure stays unambiguous): such a head
// is stored with CRLF line ends. Chunked framing lines must end in CRLF (bare LF there is a known smuggling
// vector between parsers). A request must carry exactly one valid Host in HTTP/1.1 and at most one of the
// fields that say who the caller is or how the gateway treats it (RFC 9112 3.2; docs/security.md).
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "http/asio.h"

namespace sluice::http {
// Extra capacity reserved after a request or response body so parsers that read past the end (simdjson) need no
// copy.
inline constexpr std::size_t kBodyPadding = 64;
}  // namespace sluice::http

namespace sluice::http::h1 {


enum class Error : std::uint8_t {
  kNone = 0,
  kNeedMore,             // not a failure: the head or body is incomplete, read more
  kHeadTooLarge,         // the head exceeds Limits::max_head_bytes
  kBadStartLine,         // the request line or status line is malformed
  kBadVersion,           // not HTTP/1.0 or HTTP/1.1
  kBadField,             // a field line is malformed (no colon, bad name, obs-fold, control character)
  kBadContentLength,     // not a decimal number, or several different values
  kBadTransferEncoding,  // a request's coding is not a final "chunked", or comes with Content-Length
  kBodyTooLarge,         // the body exceeds the decoder's limit
  kBadChunk,             // malformed chunk size line, chunk terminator or trailer
  kTruncated,            // the peer closed before the message ended
  // A request's head is well-formed but its fields break a rule of the server (RFC 9112 3.2):
  kMissingHost,    // HTTP/1.1 without Host
  kBadHost,        // a Host value that is no uri-host [":" port]
  kRepeatedField,  // a field that must appear once is repeated (repeated_field() names it)
};
// A short English description, for logs and for the message of a 400.
std::string_view describe(Error e);

// How the body of a message is delimited.
enum class Framing : std::uint8_t {
  kNone,        // no body (a request without Content-Length, 1xx/204/304 responses)
  kLength,      // Content-Length bytes
  kChunked,     // chunked transfer coding
  kUntilClose,  // a response body that ends when the connection closes
};

struct Field {
  std::string_view name;
  std::string_view value;  // without surrounding whitespace
};

// The header fields of one head, in arrival order. Stored as offsets into the head's own storage, so a head
// may be copied or moved freely.
class Fields {
 public:
  // The value of the first field named `name` (ASCII case-insensitive), or "" if there is none.
  std::string_view get(std::string_view name) const;
  std::string_view operator[](std::string_view name) const { return get(name); }
  std::string_view operator[](bhttp::field f) const { return get(bhttp::to_string(f)); }
  bool contains(std::string_view name) const;
  std::size_t size() const { return spans_.size(); }
  bool empty() const { return spans_.empty(); }
  Field operator[](std::size_t i) const;

  class iterator {
   public:
    using value_type = Field;
    using difference_type = std::ptrdiff_t;
    iterator() = default;
    iterator(const Fields* f, std::size_t i) : f_(f), i_(i) {}
    Field operator*() const { return (*f_)[i_]; }
    iterator& operator++() {
      ++i_;
      return *this;
    }
    iterator operator++(int) {
      auto old = *this;
      ++i_;
      return old;
    }
    bool operator==(const iterator& o) const { return i_ == o.i_; }

   private:
    const Fields* f_ = nullptr;
    std::size_t i_ = 0;
  };
  iterator begin() const { return {this, 0}; }
  iterator end() const { return {this, spans_.size()}; }

 private:
  friend struct HeadParser;
  friend class Request;
  friend class ResponseHead;
  struct Span {
    std::uint32_t name_at, name_len, value_at, value_len;
  };
  const Span* find(std::string_view name) const;  // the first field named `name`, or null

  const std::string* text_ = nullptr;  // the owning head's storage; set by the owner
  std::vector<Span> spans_;
};

struct Limits {
  std::size_t max_head_bytes = 64 * 1024;  // start line, fields and the blank line
};

// A client's request: head and (once read) body.
class Request {
 public:
  Request() { fields_.text_ = &head_; }
  // A request without fields or body, for code that builds one by hand (tests).
  Request(bhttp::verb method, std::string_view target, unsigned version);
  Request(const Request& o);
  Request(Request&& o) noexcept;
  Request& operator=(const Request& o);
  Request& operator=(Request&& o) noexcept;

  bhttp::verb method() const { return method_; }
  std::string_view method_string() const { return slice(method_at_, method_len_); }
  std::string_view target() const { return slice(target_at_, target_len_); }
  unsigned version() const { return version_; }  // 10 or 11
  // HTTP/1.1 unless "Connection: close"; HTTP/1.0 only with "Connection: keep-alive".
  bool keep_alive() const { return keep_alive_; }
  bool expect_continue() const { return expect_continue_; }         // "Expect: 100-continue"
  Framing framing() const { return framing_; }                      // kNone, kLength or kChunked
  std::uint64_t content_length() const { return content_length_; }  // with kLength

  const Fields& fields() const { return fields_; }
  std::string_view operator[](std::string_view name) const { return fields_.get(name); }
  std::string_view operator[](bhttp::field f) const { return fields_[f]; }
  Fields::iterator begin() const { return fields_.begin(); }
  Fields::iterator end() const { return fields_.end(); }

  std::string& body() { return body_; }
  const std::string& body() const { return body_; }

 private:
  friend struct HeadParser;
  std::string_view slice(std::uint32_t at, std::uint32_t len) const { return {head_.data() + at, len}; }

  std::string head_;  // the head's bytes as received
  Fields fields_;
  std::string body_;
  std::uint64_t content_length_ = 0;
  std::uint32_t method_at_ = 0, method_len_ = 0, target_at_ = 0, target_len_ = 0;
  bhttp::verb method_ = bhttp::verb::unknown;
  unsigned version_ = 11;
  Framing framing_ = Framing::kNone;
  bool keep_alive_ = true;
  bool expect_continue_ = false;
};

// An upstream's response head.
class ResponseHead {
 public:
  ResponseHead() { fields_.text_ = &head_; }
  ResponseHead(const ResponseHead&) = delete;
  ResponseHead& operator=(const ResponseHead&) = delete;

  unsigned status() const { return status_; }
  unsigned version() const { return version_; }
  // False for HTTP/1.0 without "Connection: keep-alive", "Connection: close", or a body delimited by the
  // close (the connection cannot carry another response after it).
  bool keep_alive() const { return keep_alive_; }
  Framing framing() const { return framing_; }
  std::uint64_t content_length() const { return content_length_; }  // with kLength

  const Fields& fields() const { return fields_; }
  std::string_view operator[](std::string_view name) const { return fields_.get(name); }
  std::string_view operator[](bhttp::field f) const { return fields_[f]; }

 private:
  friend struct HeadParser;
  std::string head_;
  Fields fields_;
  std::uint64_t content_length_ = 0;
  unsigned status_ = 0;
  unsigned version_ = 11;
  Framing framing_ = Framing::kNone;
  bool keep_alive_ = true;
};

// Parses the request head at the start of `in`. kNone: `out` holds it (its body is cleared) and `used` is the
// head's length including the blank line. kNeedMore: no complete head yet and the bytes so far are within the
// limit; `scan_from` (in/out, start it at 0 for a new head) remembers how far the end-of-head search got, so
// feeding a head in many small pieces stays linear. Anything else: the request is malformed.
Error parse_request(std::string_view in, Request& out, std::size_t& used, std::size_t& scan_from,
                    const Limits& limits = {});

// After kRepeatedField: the name of the first field that must appear once but is repeated, as the request
// spelled it (one of Host, Authorization, Content-Type, X-Priority, X-Request-Timeout, x-sluice-admin-key).
std::string_view repeated_field(const Request& r);

// The same for a response head. Interim 1xx heads (other than 101) are not skipped here: the caller
// consumes them and parses again. Framing follows RFC 9112 section 6.3 for a response to a non-HEAD request.
Error parse_response(std::string_view in, ResponseHead& out, std::size_t& used, std::size_t& scan_from,
                     const Limits& limits = {});

// Decodes a body delimited by Content-Length, by the chunked coding (chunk extensions are ignored, trailer
// fields read and dropped) or by the connection's close.
class BodyDecoder {
 public:
  // `limit` bounds the decoded body (kBodyTooLarge once exceeded; a Content-Length over it fails at once).
  void reset(Framing framing, std::uint64_t content_length = 0, std::uint64_t limit = UINT64_MAX);
  Error error() const { return error_; }

  struct Step {
    std::size_t used = 0;      // input bytes consumed
    std::size_t produced = 0;  // body bytes written to `out`
    Error error = Error::kNone;
  };
  // Consumes what it can of `in` and writes the body bytes it carries to `out` (never more than out.size()).
  // Stops when the body is done, `out` is full or `in` is used up. Input after the body's end is not used.
  Step decode(std::string_view in, std::span<char> out);
  // Appends the body bytes of `in` to `out` (bounded by the limit).
  Step decode_append(std::string_view in, std::string& out);
  bool done() const { return done_; }
  // The input ended (the peer closed): completes a kUntilClose body; kTruncated for any other unfinished one.
  Error finish();
  std::uint64_t decoded() const { return decoded_; }
  // Content-Length bytes still to come (kLength), else 0.
  std::uint64_t remaining() const { return framing_ == Framing::kLength ? left_ : 0; }

 private:
  enum class State : std::uint8_t { kSize, kSizeExt, kSizeLf, kData, kDataCr, kDataLf, kTrailer, kDone };
  Framing framing_ = Framing::kNone;
  State state_ = State::kDone;
  Error error_ = Error::kNone;
  bool done_ = true;
  bool size_digits_ = false;  // at least one hex digit in the current size line
  std::uint64_t left_ = 0;    // bytes left in the current chunk or in the Content-Length body
  std::uint64_t decoded_ = 0;
  std::uint64_t limit_ = UINT64_MAX;
  std::size_t line_bytes_ = 0;  // bytes of the current size or trailer line (bounded)
  std::size_t trailer_bytes_ = 0;
};

}  // namespace sluice::http::h1
