// Differential: the same bytes to sluice's request parser (http/h1) and to Beast's bhttp::request_parser.
// Where they disagree about framing — one accepts a head the other rejects, or both accept and differ in
// method, target, version, Content-Length vs chunked, or the body — the target aborts, unless the
// difference is one of the intentional ones (explain() below; docs/security.md, "Protocol strictness"):
//   h1 is more lenient, and agrees with Beast once the input is normalized the way h1 reads it:
//     - empty lines (CRLF or LF) before the request line are skipped (RFC 9112 2.2);
//     - a bare LF ends a head line (RFC 9112 2.2);
//     - Content-Length repeated or listed with one value ("5, 5") is that value (RFC 9110 8.6);
//     - obs-text (0x80-0xFF) in a field value is opaque data (RFC 9110 5.5), not an error;
//     - chunk extensions are skipped and trailer fields dropped unread (only their line structure is
//       checked: CRLF line ends, bounded sizes);
//     - Connection, Proxy-Connection and Upgrade values are not checked as token lists (h1 looks for "close"
//       and "keep-alive" in Connection; they decide keep-alive, not framing);
//   h1 is stricter, and refuses what Beast reads, for a reason it names:
//     - the server rules: HTTP/1.1 without Host, an invalid or repeated Host, a repeated field that names the
//       caller or steers the gateway (kMissingHost, kBadHost, kRepeatedField);
//     - versions other than HTTP/1.0 and 1.1 (kBadVersion);
//     - Transfer-Encoding with Content-Length, not ending in chunked, chunked twice, or in HTTP/1.0
//       (kBadTransferEncoding);
//     - obs-fold, whitespace before a colon, control characters in a field (kBadField).
#include <fmt/format.h>

#include <boost/beast/http.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "http/h1.h"

namespace {

namespace bhttp = boost::beast::http;
using namespace sluice::http::h1;

constexpr std::size_t kHeadLimit = 4096;
constexpr std::uint64_t kBodyLimit = 1 << 16;

struct Side {
  Error h1_error = Error::kNone;  // h1 only
  std::size_t used = 0;           // h1 only: the head's length
  bool head = false;  // a complete head was accepted
  bool done = false;  // ... and a complete body
  bool failed = false;
  std::string what;   // the error, when failed
  std::string method, target, body;
  unsigned version = 0;
  bool chunked = false;
  bool sized = false;
  std::uint64_t length = 0;
  std::size_t consumed = 0;  // when done: the bytes of the whole message, head and body
};

Side run_h1(std::string_view in) {
  Side s;
  Request r;
  std::size_t used = 0, scan_from = 0;
  const Error e = parse_request(in, r, used, scan_from, Limits{kHeadLimit});
  s.h1_error = e;
  s.used = used;
  if (e != Error::kNone) {
    s.failed = e != Error::kNeedMore;
    s.what = std::string(describe(e));
    return s;
  }
  s.head = true;
  s.method = std::string(r.method_string());
  s.target = std::string(r.target());
  s.version = r.version();
  s.chunked = r.framing() == Framing::kChunked;
  s.sized = r.framing() == Framing::kLength;
  s.length = r.content_length();
  BodyDecoder d;
  d.reset(r.framing(), r.content_length(), kBodyLimit);
  const auto step = d.decode_append(in.substr(used), s.body);
  s.done = d.done();
  s.consumed = used + step.used;
  if (step.error != Error::kNone) {
    s.failed = true;
    s.what = std::string(describe(step.error));
  }
  return s;
}

Side run_beast(std::string_view in) {
  Side s;
  bhttp::request_parser<bhttp::string_body> p;
  p.eager(true);
  p.header_limit(kHeadLimit);
  p.body_limit(kBodyLimit);
  boost::beast::error_code ec;
  while (!in.empty() && !p.is_done()) {
    const std::size_t n = p.put(boost::asio::buffer(in.data(), in.size()), ec);
    in.remove_prefix(n);
    s.consumed += n;
    if (ec || n == 0) break;
  }
  if (ec && ec != bhttp::error::need_more) {
    s.failed = true;
    s.what = ec.message();
  }
  if (!p.is_header_done()) {
    return s;
  }
  s.head = true;
  const auto& m = p.get();
  s.method = std::string(m.method_string());
  s.target = std::string(m.target());
  s.version = m.version();
  s.chunked = p.chunked();
  s.sized = !s.chunked && p.content_length().has_value();
  s.length = s.sized ? *p.content_length() : 0;
  s.done = p.is_done();
  if (s.done || !s.failed) s.body = m.body();
  return s;
}

// The input as h1 reads it, for Beast: leading empty lines dropped, bare LF line ends made CRLF, a
// repeated or listed Content-Length of one value written once, Connection, Proxy-Connection and Upgrade
// dropped, and obs-text in field values (bytes 0x80-0xFF,
// which RFC 9110 5.5 allows and Beast refuses) made 'x'. Only the head (h1's `used` bytes) changes.
std::string as_h1_reads_it(std::string_view in, const Side& a) {
  const std::size_t head_len = a.used;
  std::string_view head = in.substr(0, head_len);
  while (!head.empty() && (head.front() == '\n' || head.substr(0, 2) == "\r\n")) {
    head.remove_prefix(head.front() == '\n' ? 1 : 2);
  }
  std::string out;
  bool cl_written = false;
  bool request_line = true;
  while (!head.empty()) {
    const std::size_t lf = head.find('\n');
    std::string_view line = head.substr(0, lf);
    head.remove_prefix(lf == std::string_view::npos ? head.size() : lf + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    auto named = [&](std::string_view name) {
      return line.size() > name.size() && boost::beast::iequals(line.substr(0, name.size()), name);
    };
    if (named("connection:") || named("proxy-connection:") || named("upgrade:")) {
      continue;  // Beast checks their token lists; h1 only looks for close / keep-alive (not framing)
    }
    const bool cl = named("content-length:");
    if (cl) {
      if (cl_written) continue;
      cl_written = true;
      std::string_view v = line.substr(15);
      v = v.substr(0, v.find(','));
      out.append("Content-Length:").append(v).append("\r\n");
      continue;
    }
    const std::size_t at = out.size();
    out.append(line).append("\r\n");
    for (std::size_t i = at; !request_line && i < out.size(); ++i) {
      if (static_cast<unsigned char>(out[i]) >= 0x80) out[i] = 'x';
    }
    request_line = false;
  }
  if (a.chunked && a.done) {
    // Chunk extensions are ignored and trailer fields dropped unread: the body as h1 decoded it, re-encoded.
    if (!a.body.empty()) {
      out.append(fmt::format("{:x}\r\n", a.body.size())).append(a.body).append("\r\n");
    }
    out.append("0\r\n\r\n").append(in.substr(a.consumed));
  } else {
    out.append(in.substr(head_len));
  }
  return out;
}

// The same reading of the message. A body one side refuses and the other still waits for is no
// disagreement: neither delivers a message (h1 fails chunked framing at the first bad byte).
bool same(const Side& a, const Side& b) {
  return a.head == b.head && a.method == b.method && a.target == b.target && a.version == b.version &&
         a.chunked == b.chunked && a.sized == b.sized && a.length == b.length && a.done == b.done &&
         (!a.done || a.body == b.body);
}

// Why h1 refused a head Beast read, when the reason is one of h1's intentional rules; null otherwise.
const char* stricter(std::string_view in, const Side& a, const Side& b) {
  switch (a.h1_error) {
    case Error::kMissingHost:
    case Error::kBadHost:
    case Error::kRepeatedField:
      return "server rules (RFC 9112 3.2, repeated caller fields)";
    case Error::kBadVersion:
      return b.version != 10 && b.version != 11 ? "only HTTP/1.0 and 1.1" : nullptr;
    case Error::kBadTransferEncoding:
      return "Transfer-Encoding rules (RFC 9112 6.1, 6.3)";
    case Error::kBadField: {
      // obs-fold, whitespace before a colon, or a control character in a field line.
      const std::string_view head = in.substr(0, in.find("\r\n\r\n"));
      for (std::size_t i = 0; i < head.size(); ++i) {
        const auto c = static_cast<unsigned char>(head[i]);
        const bool fold = head[i] == '\n' && i + 1 < head.size() && (head[i + 1] == ' ' || head[i + 1] == '\t');
        const bool ws_colon = (c == ' ' || c == '\t') && i + 1 < head.size() && head[i + 1] == ':';
        const bool ctl = (c < 0x20 && c != '\t' && c != '\r' && c != '\n') || c == 0x7F;
        if (fold || ws_colon || ctl || (c == '\r' && i + 1 < head.size() && head[i + 1] != '\n')) {
          return "field grammar (obs-fold, space before colon, control characters)";
        }
      }
      return nullptr;
    }
    default:
      return nullptr;
  }
}

// Whether the difference between h1 (a) and Beast (b) on `in` is an intentional one.
bool explained(std::string_view in, const Side& a, const Side& b) {
  if (a.head && !b.head) {
    // h1 more lenient: Beast must agree on the input as h1 reads it.
    return same(a, run_beast(as_h1_reads_it(in, a)));
  }
  if (!a.head && b.head) {
    return stricter(in, a, b) != nullptr;
  }
  // Both read a head: the framing must agree once h1's lenience is taken out.
  return same(a, run_beast(as_h1_reads_it(in, a)));
}

[[noreturn]] void mismatch(const char* what, std::string_view in, const Side& a, const Side& b) {
  std::fprintf(stderr, "h1 vs beast: %s\n  h1:    head=%d done=%d failed=%d (%s) chunked=%d sized=%d len=%llu\n"
                       "  beast: head=%d done=%d failed=%d (%s) chunked=%d sized=%d len=%llu\n  input: %.*s\n",
               what, a.head, a.done, a.failed, a.what.c_str(), a.chunked, a.sized,
               static_cast<unsigned long long>(a.length), b.head, b.done, b.failed, b.what.c_str(), b.chunked,
               b.sized, static_cast<unsigned long long>(b.length), static_cast<int>(std::min<std::size_t>(in.size(), 300)),
               in.data());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const Side a = run_h1(in);
  const Side b = run_beast(in);
  if (a.done && b.done && a.consumed != b.consumed) {
    mismatch("the message ends at different bytes", in, a, b);  // a desync: never explained
  }
  if (same(a, b)) {
    return 0;
  }
  if (!a.done && !b.done && !(a.head && b.head)) {
    return 0;  // neither delivers a message (a body too large, a truncated one), and there is no head to compare
  }
  if (explained(in, a, b)) {
    return 0;
  }
  if (a.head != b.head) {
    mismatch(a.head ? "h1 accepts a head beast does not" : "beast accepts a head h1 does not", in, a, b);
  }
  if (a.method != b.method || a.target != b.target || a.version != b.version) {
    mismatch("request line", in, a, b);
  }
  if (a.chunked != b.chunked || a.sized != b.sized || a.length != b.length) {
    mismatch("framing", in, a, b);
  }
  if (a.done != b.done) {
    mismatch("body completion", in, a, b);
  }
  if (a.done && a.body != b.body) {
    mismatch("body", in, a, b);
  }
  return 0;
}
