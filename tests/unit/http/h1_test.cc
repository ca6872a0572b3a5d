#include "http/h1.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sluice::http::h1 {
namespace {

using namespace std::string_literals;

// ---- helpers ---------------------------------------------------------------------------------------------

struct Parsed {
  Error error = Error::kNone;
  std::size_t used = 0;
};

Parsed parse_req(std::string_view in, Request& r, const Limits& limits = {}) {
  Parsed p;
  std::size_t scan_from = 0;
  p.error = parse_request(in, r, p.used, scan_from, limits);
  return p;
}

Error req_error(std::string_view in, const Limits& limits = {}) {
  Request r;
  return parse_req(in, r, limits).error;
}

Parsed parse_resp(std::string_view in, ResponseHead& h, const Limits& limits = {}) {
  Parsed p;
  std::size_t scan_from = 0;
  p.error = parse_response(in, h, p.used, scan_from, limits);
  return p;
}

Error resp_error(std::string_view in) {
  ResponseHead h;
  return parse_resp(in, h).error;
}

// A request line plus the given field lines, a Host field for HTTP/1.1 (last, when `fields` has none), and
// the blank line.
std::string request_with(std::string_view fields, std::string_view start = "GET / HTTP/1.1") {
  const bool host = start.ends_with("HTTP/1.1") && !fields.starts_with("Host:") &&
                    fields.find("\r\nHost:") == std::string_view::npos;
  return std::string(start) + "\r\n" + std::string(fields) + (host ? "Host: h\r\n" : "") + "\r\n";
}
std::string response_with(std::string_view fields, std::string_view start = "HTTP/1.1 200 OK") {
  return std::string(start) + "\r\n" + std::string(fields) + "\r\n";
}

std::vector<std::pair<std::string, std::string>> all_fields(const Fields& f) {
  std::vector<std::pair<std::string, std::string>> out;
  for (Field x : f) out.emplace_back(x.name, x.value);
  return out;
}

// Every view a request hands out lies inside `r`'s own storage (checked by ASan when it does not).
std::string flatten(const Request& r) {
  std::string s = std::string(r.method_string()) + "|" + std::string(r.target()) + "|";
  for (Field f : r) s += std::string(f.name) + "=" + std::string(f.value) + ";";
  return s;
}

const std::string kCurl =
    "GET /v1/models HTTP/1.1\r\n"
    "Host: localhost:8080\r\n"
    "User-Agent: curl/8.5.0\r\n"
    "Accept: */*\r\n"
    "\r\n";

const std::string kWrk =
    "GET /index.html HTTP/1.1\r\n"
    "Host: 127.0.0.1:8080\r\n"
    "\r\n";

const std::string kSdkBody =
    R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":"Say hi"}],"stream":true})";

std::string sdk_request() {
  return "POST /v1/chat/completions HTTP/1.1\r\n"
         "Host: api.openai.com\r\n"
         "Accept-Encoding: gzip, deflate\r\n"
         "Connection: keep-alive\r\n"
         "Accept: application/json\r\n"
         "Content-Type: application/json\r\n"
         "User-Agent: OpenAI/Python 1.51.0\r\n"
         "X-Stainless-Lang: python\r\n"
         "X-Stainless-Package-Version: 1.51.0\r\n"
         "X-Stainless-OS: Linux\r\n"
         "X-Stainless-Arch: x64\r\n"
         "X-Stainless-Runtime: CPython\r\n"
         "X-Stainless-Runtime-Version: 3.12.3\r\n"
         "Authorization: Bearer sk-test-0123456789abcdef\r\n"
         "X-Stainless-Async: false\r\n"
         "x-stainless-retry-count: 0\r\n"
         "x-stainless-read-timeout: 600\r\n"
         "Content-Length: " +
         std::to_string(kSdkBody.size()) +
         "\r\n"
         "\r\n";
}

// ---- requests: typical traffic ---------------------------------------------------------------------------

TEST(H1Request, ParsesCurlRequest) {
  Request r;
  const Parsed p = parse_req(kCurl, r);
  ASSERT_EQ(p.error, Error::kNone);
  EXPECT_EQ(p.used, kCurl.size());
  EXPECT_EQ(r.method(), bhttp::verb::get);
  EXPECT_EQ(r.method_string(), "GET");
  EXPECT_EQ(r.target(), "/v1/models");
  EXPECT_EQ(r.version(), 11u);
  EXPECT_TRUE(r.keep_alive());
  EXPECT_FALSE(r.expect_continue());
  EXPECT_EQ(r.framing(), Framing::kNone);
  EXPECT_EQ(r.content_length(), 0u);
  ASSERT_EQ(r.fields().size(), 3u);
  EXPECT_FALSE(r.fields().empty());
  EXPECT_EQ(all_fields(r.fields()),
            (std::vector<std::pair<std::string, std::string>>{
                {"Host", "localhost:8080"}, {"User-Agent", "curl/8.5.0"}, {"Accept", "*/*"}}));
  EXPECT_EQ(r["host"], "localhost:8080");
  EXPECT_EQ(r[bhttp::field::user_agent], "curl/8.5.0");
  EXPECT_EQ(r.fields()[2].name, "Accept");
  EXPECT_EQ(r.fields()[2].value, "*/*");
}

TEST(H1Request, ParsesWrkRequest) {
  Request r;
  const Parsed p = parse_req(kWrk, r);
  ASSERT_EQ(p.error, Error::kNone);
  EXPECT_EQ(p.used, kWrk.size());
  EXPECT_EQ(r.target(), "/index.html");
  EXPECT_EQ(r.fields().size(), 1u);
  EXPECT_EQ(r[bhttp::field::host], "127.0.0.1:8080");
}

TEST(H1Request, ParsesSdkRequestWithManyHeadersAndLeavesTheBody) {
  const std::string head = sdk_request();
  const std::string wire = head + kSdkBody;
  Request r;
  r.body() = "stale";
  const Parsed p = parse_req(wire, r);
  ASSERT_EQ(p.error, Error::kNone);
  EXPECT_EQ(p.used, head.size());
  EXPECT_TRUE(r.body().empty());
  EXPECT_EQ(r.method(), bhttp::verb::post);
  EXPECT_EQ(r.target(), "/v1/chat/completions");
  EXPECT_EQ(r.fields().size(), 17u);
  EXPECT_EQ(r.framing(), Framing::kLength);
  EXPECT_EQ(r.content_length(), kSdkBody.size());
  EXPECT_TRUE(r.keep_alive());
  EXPECT_EQ(r["authorization"], "Bearer sk-test-0123456789abcdef");
  EXPECT_EQ(r["X-STAINLESS-RETRY-COUNT"], "0");
  EXPECT_EQ(r["accept-encoding"], "gzip, deflate");
  EXPECT_EQ(r[bhttp::field::content_type], "application/json");
  EXPECT_TRUE(r.fields().contains("x-stainless-lang"));
  EXPECT_FALSE(r.fields().contains("x-stainless-lan"));
  EXPECT_FALSE(r.fields().contains("x-stainless-langs"));
  std::size_t n = 0;
  for (auto it = r.begin(); it != r.end(); it++) ++n;
  EXPECT_EQ(n, r.fields().size());
}

TEST(H1Request, UnknownAndLowercaseMethodsAreKeptAsTokens) {
  Request r;
  ASSERT_EQ(parse_req("BREW /pot HTTP/1.1\r\nHost: h\r\n\r\n", r).error, Error::kNone);
  EXPECT_EQ(r.method(), bhttp::verb::unknown);
  EXPECT_EQ(r.method_string(), "BREW");
  ASSERT_EQ(parse_req("get / HTTP/1.1\r\nHost: h\r\n\r\n", r).error, Error::kNone);
  EXPECT_EQ(r.method(), bhttp::verb::unknown);  // methods are case-sensitive
  EXPECT_EQ(r.method_string(), "get");
  ASSERT_EQ(parse_req("M-SEARCH * HTTP/1.1\r\nHost: h\r\n\r\n", r).error, Error::kNone);
  EXPECT_EQ(r.method(), bhttp::verb::msearch);
  EXPECT_EQ(r.target(), "*");
  ASSERT_EQ(parse_req("OPTIONS * HTTP/1.0\r\n\r\n", r).error, Error::kNone);
  EXPECT_EQ(r.method(), bhttp::verb::options);
  EXPECT_EQ(r.version(), 10u);
}

TEST(H1Request, TargetsMayHoldAnyVisibleByteAndObsText) {
  Request r;
  ASSERT_EQ(parse_req("GET http://example.com:80/a?b=c&d=%20#x HTTP/1.1\r\nHost: h\r\n\r\n", r).error, Error::kNone);
  EXPECT_EQ(r.target(), "http://example.com:80/a?b=c&d=%20#x");
  ASSERT_EQ(parse_req("GET /caf\xc3\xa9\"<>{}|\\^` HTTP/1.1\r\nHost: h\r\n\r\n", r).error, Error::kNone);
  EXPECT_EQ(r.target(), "/caf\xc3\xa9\"<>{}|\\^`");
  ASSERT_EQ(parse_req("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", r).error,
            Error::kNone);
  EXPECT_EQ(r.method(), bhttp::verb::connect);
  EXPECT_EQ(r.target(), "example.com:443");
}

TEST(H1Request, MethodTokensAcceptEveryTchar) {
  Request r;
  ASSERT_EQ(parse_req("!#$%&'*+-.^_`|~09azAZ / HTTP/1.1\r\nHost: h\r\n\r\n", r).error, Error::kNone);
  EXPECT_EQ(r.method_string(), "!#$%&'*+-.^_`|~09azAZ");
}

// ---- requests: head boundaries ---------------------------------------------------------------------------

TEST(H1Request, PipelinedRequestsStopAtTheFirstHead) {
  const std::string wire = kCurl + kWrk;
  Request r;
  const Parsed first = parse_req(wire, r);
  ASSERT_EQ(first.error, Error::kNone);
  EXPECT_EQ(first.used, kCurl.size());
  EXPECT_EQ(r.target(), "/v1/models");
  EXPECT_EQ(r.fields().size(), 3u);
  const Parsed second = parse_req(std::string_view(wire).substr(first.used), r);
  ASSERT_EQ(second.error, Error::kNone);
  EXPECT_EQ(second.used, kWrk.size());
  EXPECT_EQ(r.target(), "/index.html");
  EXPECT_EQ(r.fields().size(), 1u);  // no field left over from the longer first head
  EXPECT_EQ(r["user-agent"], "");
}

TEST(H1Request, PipelinedAfterABody) {
  const std::string wire = sdk_request() + kSdkBody + kWrk;
  Request r;
  const Parsed first = parse_req(wire, r);
  ASSERT_EQ(first.error, Error::kNone);
  BodyDecoder d;
  d.reset(r.framing(), r.content_length());
  const auto step = d.decode_append(std::string_view(wire).substr(first.used), r.body());
  EXPECT_EQ(step.error, Error::kNone);
  EXPECT_TRUE(d.done());
  EXPECT_EQ(r.body(), kSdkBody);
  const Parsed second = parse_req(std::string_view(wire).substr(first.used + step.used), r);
  ASSERT_EQ(second.error, Error::kNone);
  EXPECT_EQ(r.target(), "/index.html");
}

TEST(H1Request, LeadingEmptyLinesAreSkippedAndCounted) {
  Request r;
  const std::string wire = "\r\n\r\n\r\n" + kWrk;
  const Parsed p = parse_req(wire, r);
  ASSERT_EQ(p.error, Error::kNone);
  EXPECT_EQ(p.used, wire.size());
  EXPECT_EQ(r.method(), bhttp::verb::get);
  EXPECT_EQ(r.target(), "/index.html");
  EXPECT_EQ(r.fields().size(), 1u);

  EXPECT_EQ(req_error("\r\n"), Error::kNeedMore);
  EXPECT_EQ(req_error("\r\n\r\n"), Error::kNeedMore);
  EXPECT_EQ(req_error("\r\n\r"), Error::kNeedMore);
  EXPECT_EQ(req_error("\r\n\r\nGET"), Error::kNeedMore);
  EXPECT_EQ(req_error("\r\n\n"), Error::kNeedMore);  // a bare LF is an empty line too (RFC 9112 2.2)
  EXPECT_EQ(req_error("\n\r\n\n" + kWrk), Error::kNone);
  EXPECT_EQ(req_error("\r\n\rX"), Error::kBadStartLine);
}

// Feeds `wire` one more byte at a time, the way reads of one byte would arrive.
template <class Head, class Parse>
void expect_incremental_matches_whole(const std::string& wire, Parse parse) {
  std::size_t scan_from = 0;
  std::size_t last_scan = 0;
  Head h;
  for (std::size_t n = 0; n < wire.size(); ++n) {
    std::size_t used = 0;
    ASSERT_EQ(parse(std::string_view(wire).substr(0, n), h, used, scan_from), Error::kNeedMore) << "at " << n;
    EXPECT_GE(scan_from, last_scan);
    EXPECT_EQ(scan_from, n);  // the search resumes where it stopped
    last_scan = scan_from;
  }
  std::size_t used = 0;
  ASSERT_EQ(parse(std::string_view(wire), h, used, scan_from), Error::kNone);
  EXPECT_EQ(used, wire.size());
  EXPECT_EQ(scan_from, 0u);
}

TEST(H1Request, ByteByByteMatchesWhole) {
  for (const std::string& wire : {kCurl, kWrk, sdk_request(), "\r\n\r\n" + kCurl}) {
    SCOPED_TRACE(wire);
    expect_incremental_matches_whole<Request>(
        wire, [](std::string_view in, Request& r, std::size_t& u, std::size_t& s) {
          return parse_request(in, r, u, s);
        });
    Request whole;
    ASSERT_EQ(parse_req(wire, whole).error, Error::kNone);
    Request piecewise;
    std::size_t scan_from = 0, used = 0;
    for (std::size_t n = 0; n <= wire.size(); ++n) {
      const Error e = parse_request(std::string_view(wire).substr(0, n), piecewise, used, scan_from);
      ASSERT_EQ(e, n < wire.size() ? Error::kNeedMore : Error::kNone) << n;
    }
    EXPECT_EQ(flatten(piecewise), flatten(whole));
    EXPECT_EQ(piecewise.framing(), whole.framing());
    EXPECT_EQ(piecewise.content_length(), whole.content_length());
    EXPECT_EQ(piecewise.keep_alive(), whole.keep_alive());
  }
}

TEST(H1Request, TerminatorSplitAcrossCallsIsFound) {
  // Each step adds one byte of the terminator; scan_from resumed with a 3-byte back-off must still find it.
  const std::string wire = kWrk;
  const std::size_t head_line_end = wire.size() - 4;
  for (std::size_t cut = head_line_end; cut < wire.size(); ++cut) {
    Request r;
    std::size_t used = 0, scan_from = 0;
    ASSERT_EQ(parse_request(std::string_view(wire).substr(0, cut), r, used, scan_from), Error::kNeedMore);
    ASSERT_EQ(parse_request(wire, r, used, scan_from), Error::kNone) << cut;
    EXPECT_EQ(used, wire.size());
  }
}

TEST(H1Request, HeadSizeLimit) {
  const std::string head = kCurl;
  Limits exact{head.size()};
  EXPECT_EQ(req_error(head, exact), Error::kNone);
  EXPECT_EQ(req_error(head + "GET", exact), Error::kNone);  // what follows the head does not count
  Limits under{head.size() - 1};
  EXPECT_EQ(req_error(head, under), Error::kHeadTooLarge);

  // Incomplete: kNeedMore up to the limit, kHeadTooLarge past it.
  const std::string partial = head.substr(0, head.size() - 1);
  EXPECT_EQ(req_error(partial, Limits{partial.size()}), Error::kNeedMore);
  EXPECT_EQ(req_error(partial, Limits{partial.size() - 1}), Error::kHeadTooLarge);

  // Leading empty lines count against the limit.
  EXPECT_EQ(req_error("\r\n" + head, Limits{head.size() + 2}), Error::kNone);
  EXPECT_EQ(req_error("\r\n" + head, Limits{head.size() + 1}), Error::kHeadTooLarge);

  // Fed a byte at a time, a head one byte over the limit never parses.
  Request r;
  std::size_t used = 0, scan_from = 0;
  Error e = Error::kNeedMore;
  std::size_t n = 0;
  for (; n <= head.size() && e == Error::kNeedMore; ++n) {
    e = parse_request(std::string_view(head).substr(0, n), r, used, scan_from, under);
  }
  EXPECT_EQ(e, Error::kHeadTooLarge);

  // A long header field against the default 64 KiB limit.
  const std::string big = request_with("X-Big: " + std::string(70000, 'a') + "\r\n");
  EXPECT_EQ(req_error(big), Error::kHeadTooLarge);
  EXPECT_EQ(req_error(big.substr(0, 60000)), Error::kNeedMore);
  EXPECT_EQ(req_error(std::string(70000, '\r')), Error::kBadStartLine);  // CR CR: a bare CR, at once
}

TEST(H1Request, EndlessEmptyLinesHitTheLimit) {
  std::string crlfs;
  for (int i = 0; i < 40000; ++i) crlfs += "\r\n";
  EXPECT_EQ(req_error(crlfs), Error::kHeadTooLarge);
  EXPECT_EQ(req_error(crlfs.substr(0, 64 * 1024)), Error::kNeedMore);
}

// ---- requests: malformed ---------------------------------------------------------------------------------

struct Bad {
  std::string wire;
  Error error;
};

TEST(H1Request, MalformedRequestLines) {
  const std::vector<Bad> cases = {
      {"GET / HTTP/1.1\rHost: a\r\n\r\n", Error::kBadStartLine},                // bare CR
      {"GET /a\rb HTTP/1.1\r\nHost: h\r\n\r\n", Error::kBadStartLine},                     // bare CR in the target
      {"GET /a\nb HTTP/1.1\r\nHost: h\r\n\r\n", Error::kBadStartLine},                     // bare LF in the target
      {"GE(T / HTTP/1.1\r\nHost: h\r\n\r\n", Error::kBadStartLine},                        // not a tchar
      {"GE\"T / HTTP/1.1\r\nHost: h\r\n\r\n", Error::kBadStartLine},                       // not a tchar
      {"G\xc3\xa9T / HTTP/1.1\r\nHost: h\r\n\r\n", Error::kBadStartLine},                  // obs-text is no tchar
      {"(GET / HTTP/1.1\r\nHost: h\r\n\r\n", Error::kBadStartLine},                        // rejected at the first byte
      {" GET / HTTP/1.1\r\nHost: h\r\n\r\n", Error::kBadStartLine},                        // leading space
      {"GET  HTTP/1.1\r\nHost: h\r\n\r\n", Error::kBadStartLine},                          // missing target
      {"GET HTTP/1.1\r\nHost: h\r\n\r\n", Error::kBadStartLine},                           // missing target, one SP
      {"GET  / HTTP/1.1\r\nHost: h\r\n\r\n", Error::kBadStartLine},                        // two SP
      {"GET /  HTTP/1.1\r\nHost: h\r\n\r\n", Error::kBadStartLine},                        // two SP
      {"GET\t/ HTTP/1.1\r\nHost: h\r\n\r\n", Error::kBadStartLine},                        // HTAB is no separator
      {"GET / HTTP/1.1 \r\n\r\n", Error::kBadStartLine},                        // trailing SP
      {"GET /\x01 HTTP/1.1\r\nHost: h\r\n\r\n", Error::kBadStartLine},                     // CTL in the target
      {"GET /\x7f HTTP/1.1\r\nHost: h\r\n\r\n", Error::kBadStartLine},                     // DEL in the target
      {"GET /\0 HTTP/1.1\r\nHost: h\r\n\r\n"s, Error::kBadStartLine},                      // NUL in the target
      {"GET /\r\n\r\n", Error::kBadStartLine},                                  // HTTP/0.9 form
      {"GET / \r\n\r\n", Error::kBadStartLine},                                 // no version
      {"GET / HTTP/1.1x\r\n\r\n", Error::kBadStartLine},                        // junk after the version
      {"GET / HTTP/1.1.1\r\n\r\n", Error::kBadStartLine},                       // junk after the version
      {"GET / http/1.1\r\n\r\n", Error::kBadStartLine},                         // HTTP-name is case-sensitive
      {"GET / HTTP/1.\r\n\r\n", Error::kBadStartLine},                          // not a version
      {"GET / HTTP/.1\r\n\r\n", Error::kBadStartLine},                          // not a version
      {"GET / HTTPS/1.1\r\n\r\n", Error::kBadStartLine},                        // not a version
      {"GET / HTTP/1.1\r\r\n\r\n", Error::kBadStartLine},                       // CR CR LF
      {"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"s, Error::kBadStartLine},  // a TLS hello, at once
      {"\rGET / HTTP/1.1\r\nHost: h\r\n\r\n", Error::kBadStartLine},  // a bare CR first, at once
      {"GET / HTTP/2.0\r\n\r\n", Error::kBadVersion},
      {"GET / HTTP/1.2\r\n\r\n", Error::kBadVersion},
      {"GET / HTTP/0.9\r\n\r\n", Error::kBadVersion},
      {"GET / HTTP/3\r\n\r\n", Error::kBadVersion},
      {"GET / HTTP/11.1\r\n\r\n", Error::kBadVersion},
  };
  for (const Bad& c : cases) {
    EXPECT_EQ(req_error(c.wire), c.error) << testing::PrintToString(c.wire);
  }
}

TEST(H1Request, MalformedFieldLines) {
  const std::vector<Bad> cases = {
      {request_with("Host: a\rX: b\r\n"), Error::kBadField},      // bare CR in a value
      {request_with("Host: a\r\r\n"), Error::kBadField},          // CR CR LF
      {request_with("Host: a\r\n b\r\n"), Error::kBadField},      // obs-fold with SP
      {request_with("Host: a\r\n\tb\r\n"), Error::kBadField},     // obs-fold with HTAB
      {request_with(" Host: a\r\n"), Error::kBadField},           // first line folded
      {request_with("Host : a\r\n"), Error::kBadField},           // space before the colon
      {request_with("Host\t: a\r\n"), Error::kBadField},          // HTAB before the colon
      {request_with("Host a\r\n"), Error::kBadField},             // no colon
      {request_with("Host\r\n"), Error::kBadField},               // no colon, no value
      {request_with(": a\r\n"), Error::kBadField},                // empty name
      {request_with("Ho(st: a\r\n"), Error::kBadField},           // not a tchar
      {request_with("Ho st: a\r\n"), Error::kBadField},           // space in the name
      {request_with("H\xc3\xa9: a\r\n"), Error::kBadField},       // obs-text in the name
      {request_with("X: a\0b\r\n"s), Error::kBadField},           // NUL in a value
      {request_with("X: \0\r\n"s), Error::kBadField},             // NUL alone
      {request_with("X: a\x7f\r\n"), Error::kBadField},           // DEL in a value
      {request_with("X: a\x01\r\n"), Error::kBadField},           // CTL in a value
      {request_with("X: \x1b[31m\r\n"), Error::kBadField},        // escape sequence
      {request_with("X: a\x0b b\r\n"), Error::kBadField},         // VT
      {request_with("Host: a\r\nX: b\r\r\n"), Error::kBadField},  // CR CR LF
      {request_with("Host: a\r\nX: b\r \r\n"), Error::kBadField},  // bare CR before SP
  };
  for (const Bad& c : cases) {
    EXPECT_EQ(req_error(c.wire), c.error) << testing::PrintToString(c.wire);
  }
}

// Values and targets are scanned 16 bytes at a time: every byte value at every offset of a long one (across
// block boundaries and in the last partial block) must be judged as the byte-by-byte grammar does.
TEST(H1Request, EveryByteOfALongValueOrTargetIsChecked) {
  for (int b = 0; b < 256; ++b) {
    const char c = static_cast<char>(b);
    const bool value_ok = b == '\t' || (b >= 0x20 && b != 0x7F);
    const bool target_ok = b > 0x20 && b != 0x7F;
    for (std::size_t at = 0; at < 41; ++at) {
      std::string value(41, 'v');
      value[at] = c;
      Request r;
      const Error e = parse_req(request_with("Host: h\r\nX-Long: " + value + "\r\n"), r).error;
      if (b == '\n' && at == 40) {  // a bare LF ends the line (and the head, with the CRLF after it)
        ASSERT_EQ(e, Error::kNone);
        EXPECT_EQ(r["x-long"], value.substr(0, 40));
        continue;
      }
      ASSERT_EQ(e, value_ok ? Error::kNone : Error::kBadField) << "byte " << b << " at " << at;
      if (value_ok) {
        std::string_view trimmed = value;
        while (!trimmed.empty() && (trimmed.back() == ' ' || trimmed.back() == '\t'))
          trimmed.remove_suffix(1);
        while (!trimmed.empty() && (trimmed.front() == ' ' || trimmed.front() == '\t'))
          trimmed.remove_prefix(1);
        EXPECT_EQ(r["x-long"], trimmed) << "byte " << b << " at " << at;
      }
      std::string target = "/" + std::string(40, 't');
      target[at] = at == 0 ? '/' : c;
      const Error te = parse_req("GET " + target + " HTTP/1.1\r\nHost: h\r\n\r\n", r).error;
      ASSERT_EQ(te, at == 0 || target_ok ? Error::kNone : Error::kBadStartLine)
          << "byte " << b << " at " << at;
      if (te == Error::kNone) {
        EXPECT_EQ(r.target(), target);
      }
    }
  }
}

TEST(H1Request, FieldValuesAreTrimmedAndMayBeEmpty) {
  Request r;
  ASSERT_EQ(parse_req(request_with("A:   x y  \t\r\nB:\r\nC: \t \r\nD:z\r\nE: \xc3\xa9\t\"v\"\r\n"), r).error,
            Error::kNone);
  ASSERT_EQ(r.fields().size(), 6u);  // and Host
  EXPECT_EQ(r["a"], "x y");
  EXPECT_EQ(r["b"], "");
  EXPECT_TRUE(r.fields().contains("b"));
  EXPECT_EQ(r["c"], "");
  EXPECT_TRUE(r.fields().contains("C"));
  EXPECT_EQ(r["d"], "z");
  EXPECT_EQ(r["e"], "\xc3\xa9\t\"v\"");
  EXPECT_EQ(r["f"], "");
  EXPECT_FALSE(r.fields().contains("f"));
}

TEST(H1Request, LookupIsCaseInsensitiveAndFirstWins) {
  Request r;
  ASSERT_EQ(parse_req(request_with("X-Key: one\r\nx-key: two\r\nX-KEY: three\r\nOther: o\r\n"), r).error,
            Error::kNone);
  EXPECT_EQ(r["x-key"], "one");
  EXPECT_EQ(r["X-KEY"], "one");
  EXPECT_EQ(r["x-KeY"], "one");
  EXPECT_EQ(r["other"], "o");
  EXPECT_EQ(r["x-ke"], "");
  EXPECT_EQ(r["x-keys"], "");
  EXPECT_EQ(r["x_key"], "");  // '_' is not '-'
  EXPECT_EQ(r.fields().get("OTHER"), "o");
  EXPECT_EQ(r.fields()[1].name, "x-key");  // names keep their case
  EXPECT_EQ(r.fields()[1].value, "two");
  EXPECT_EQ(r.fields().size(), 5u);  // and Host
  // Lookups with non-letters that differ only in bit 0x20 do not match.
  ASSERT_EQ(parse_req(request_with("a^b: 1\r\n"), r).error, Error::kNone);
  EXPECT_EQ(r["a~b"], "");
  EXPECT_EQ(r["A^B"], "1");
}

TEST(H1Request, AFieldLessHeadIsFine) {
  Request r;
  const Parsed p = parse_req("GET / HTTP/1.0\r\n\r\n", r);
  ASSERT_EQ(p.error, Error::kNone);
  EXPECT_EQ(p.used, 18u);
  EXPECT_TRUE(r.fields().empty());
  EXPECT_EQ(r.begin(), r.end());
  EXPECT_FALSE(r.keep_alive());
  EXPECT_EQ(r["host"], "");
}

// ---- requests: framing, connection, expect ---------------------------------------------------------------

TEST(H1Request, ContentLength) {
  Request r;
  ASSERT_EQ(parse_req(request_with("Content-Length: 42\r\n", "POST / HTTP/1.1"), r).error, Error::kNone);
  EXPECT_EQ(r.framing(), Framing::kLength);
  EXPECT_EQ(r.content_length(), 42u);
  ASSERT_EQ(parse_req(request_with("content-length: 0\r\n", "POST / HTTP/1.1"), r).error, Error::kNone);
  EXPECT_EQ(r.framing(), Framing::kLength);
  EXPECT_EQ(r.content_length(), 0u);
  ASSERT_EQ(parse_req(request_with("Content-Length: 007\r\n"), r).error, Error::kNone);
  EXPECT_EQ(r.content_length(), 7u);
  ASSERT_EQ(parse_req(request_with("Content-Length: 18446744073709551615\r\n"), r).error, Error::kNone);
  EXPECT_EQ(r.content_length(), UINT64_MAX);
  // Identical duplicates and lists are one length (RFC 9110 8.6).
  ASSERT_EQ(parse_req(request_with("Content-Length: 5\r\nContent-Length: 5\r\n"), r).error, Error::kNone);
  EXPECT_EQ(r.content_length(), 5u);
  ASSERT_EQ(parse_req(request_with("Content-Length: 5, 5 ,5\r\n"), r).error, Error::kNone);
  EXPECT_EQ(r.content_length(), 5u);
  ASSERT_EQ(parse_req(request_with("Content-Length: 5\r\nContent-Length: 05\r\n"), r).error, Error::kNone);
  EXPECT_EQ(r.content_length(), 5u);
  // A request without either has no body.
  ASSERT_EQ(parse_req(request_with("Host: a\r\n", "POST / HTTP/1.1"), r).error, Error::kNone);
  EXPECT_EQ(r.framing(), Framing::kNone);
  EXPECT_EQ(r.content_length(), 0u);
}

TEST(H1Request, BadContentLength) {
  for (const char* v : {"5\r\nContent-Length: 6", "5, 6", "5,", ",5", "5,,5", "", "+5", "-1", "5 5", "0x5",
                        "abc", "5a", "1.0", "18446744073709551616", "99999999999999999999999", "\xd9\xa5"}) {
    EXPECT_EQ(req_error(request_with("Content-Length: " + std::string(v) + "\r\n", "POST / HTTP/1.1")),
              Error::kBadContentLength)
        << v;
  }
}

TEST(H1Request, TransferEncoding) {
  Request r;
  ASSERT_EQ(parse_req(request_with("Transfer-Encoding: chunked\r\n", "POST / HTTP/1.1"), r).error,
            Error::kNone);
  EXPECT_EQ(r.framing(), Framing::kChunked);
  ASSERT_EQ(parse_req(request_with("transfer-encoding: Chunked\r\n", "POST / HTTP/1.1"), r).error,
            Error::kNone);
  EXPECT_EQ(r.framing(), Framing::kChunked);
  ASSERT_EQ(parse_req(request_with("Transfer-Encoding: gzip, chunked\r\n"), r).error, Error::kNone);
  EXPECT_EQ(r.framing(), Framing::kChunked);
  ASSERT_EQ(parse_req(request_with("Transfer-Encoding: gzip ,\t CHUNKED \r\n"), r).error, Error::kNone);
  EXPECT_EQ(r.framing(), Framing::kChunked);
  ASSERT_EQ(parse_req(request_with("Transfer-Encoding: gzip,, chunked,\r\n"), r).error, Error::kNone);
  EXPECT_EQ(r.framing(), Framing::kChunked);  // empty list elements are ignored
  // Codings from repeated fields are one list.
  ASSERT_EQ(parse_req(request_with("Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n"), r).error,
            Error::kNone);
  EXPECT_EQ(r.framing(), Framing::kChunked);
}

TEST(H1Request, BadTransferEncoding) {
  const std::vector<std::string> cases = {
      request_with("Transfer-Encoding: gzip\r\n"),
      request_with("Transfer-Encoding: chunked, gzip\r\n"),
      request_with("Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n"),
      request_with("Transfer-Encoding: chunked, chunked\r\n"),
      request_with("Transfer-Encoding: chunked;x=1\r\n"),
      request_with("Transfer-Encoding: chunkedx\r\n"),
      request_with("Transfer-Encoding: \r\n"),
      request_with("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n"),
      request_with("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n"),
      request_with("Content-Length: x\r\nTransfer-Encoding: chunked\r\n"),
      request_with("Transfer-Encoding: chunked\r\n", "POST / HTTP/1.0"),
      // Codings that are no tokens, even before a final chunked (found by tests/fuzz/fuzz_h1_beast_diff.cc).
      request_with("Transfer-Encoding: chunked:8080\r\nTransfer-Encoding: chunked\r\n"),
      request_with("Transfer-Encoding: gzip;q=1, chunked\r\n"),
      request_with("Transfer-Encoding: g zip, chunked\r\n"),
      request_with("Transfer-Encoding: \"gzip\", chunked\r\n"),
  };
  for (const std::string& c : cases) {
    EXPECT_EQ(req_error(c), Error::kBadTransferEncoding) << c;
  }
}

TEST(H1Request, KeepAlive) {
  struct Case {
    std::string version, fields;
    bool keep_alive;
  };
  const std::vector<Case> cases = {
      {"HTTP/1.1", "", true},
      {"HTTP/1.1", "Connection: close\r\n", false},
      {"HTTP/1.1", "Connection: Close\r\n", false},
      {"HTTP/1.1", "Connection: keep-alive, Upgrade\r\n", true},
      {"HTTP/1.1", "Connection: Upgrade, close\r\n", false},
      {"HTTP/1.1", "Connection: upgrade\r\nConnection: CLOSE\r\n", false},
      {"HTTP/1.1", "Connection: closed, xclose\r\n", true},
      {"HTTP/1.1", "X-Connection: close\r\n", true},
      {"HTTP/1.0", "", false},
      {"HTTP/1.0", "Connection: keep-alive\r\n", true},
      {"HTTP/1.0", "Connection: Keep-Alive, Upgrade\r\n", true},
      {"HTTP/1.0", "Connection: keep-alive, close\r\n", false},
      {"HTTP/1.0", "Connection: keep-alives\r\n", false},
  };
  for (const Case& c : cases) {
    Request r;
    ASSERT_EQ(parse_req(request_with(c.fields, "GET / " + c.version), r).error, Error::kNone) << c.fields;
    EXPECT_EQ(r.keep_alive(), c.keep_alive) << c.version << " " << c.fields;
    EXPECT_EQ(r.version(), c.version == "HTTP/1.1" ? 11u : 10u);
  }
}

TEST(H1Request, ExpectContinue) {
  Request r;
  ASSERT_EQ(parse_req(request_with("Expect: 100-continue\r\nContent-Length: 3\r\n"), r).error, Error::kNone);
  EXPECT_TRUE(r.expect_continue());
  ASSERT_EQ(parse_req(request_with("expect:  100-Continue \r\n"), r).error, Error::kNone);
  EXPECT_TRUE(r.expect_continue());
  ASSERT_EQ(parse_req(request_with("Expect: 100-continues\r\n"), r).error, Error::kNone);
  EXPECT_FALSE(r.expect_continue());
  ASSERT_EQ(parse_req(request_with("Expect: 200-ok\r\n"), r).error, Error::kNone);
  EXPECT_FALSE(r.expect_continue());
  ASSERT_EQ(parse_req(request_with(""), r).error, Error::kNone);
  EXPECT_FALSE(r.expect_continue());
}

// ---- requests: ownership ---------------------------------------------------------------------------------

TEST(H1Request, CopiesOwnTheirFields) {
  auto src = std::make_unique<Request>();
  ASSERT_EQ(parse_req(sdk_request(), *src).error, Error::kNone);
  src->body() = kSdkBody;
  const std::string expected = flatten(*src);

  Request copy(*src);
  Request assigned;
  ASSERT_EQ(parse_req(kWrk, assigned).error, Error::kNone);
  assigned = *src;
  src.reset();  // views into the source's storage would now dangle (ASan)

  for (const Request* r : {&copy, &assigned}) {
    EXPECT_EQ(flatten(*r), expected);
    EXPECT_EQ((*r)["authorization"], "Bearer sk-test-0123456789abcdef");
    EXPECT_EQ(r->method(), bhttp::verb::post);
    EXPECT_EQ(r->framing(), Framing::kLength);
    EXPECT_EQ(r->content_length(), kSdkBody.size());
    EXPECT_EQ(r->body(), kSdkBody);
  }
  // Self-assignment keeps everything.
  Request& alias = copy;
  copy = alias;
  EXPECT_EQ(flatten(copy), expected);
}

TEST(H1Request, MovesOwnTheirFieldsAndLeaveTheSourceEmpty) {
  auto src = std::make_unique<Request>();
  ASSERT_EQ(parse_req(sdk_request(), *src).error, Error::kNone);
  src->body() = kSdkBody;
  const std::string expected = flatten(*src);

  Request moved(std::move(*src));
  EXPECT_EQ(flatten(moved), expected);
  EXPECT_EQ(moved.body(), kSdkBody);
  // The moved-from request is empty but usable.
  EXPECT_EQ(src->method_string(), "");
  EXPECT_EQ(src->target(), "");
  EXPECT_TRUE(src->fields().empty());
  EXPECT_EQ((*src)["host"], "");
  ASSERT_EQ(parse_req(kCurl, *src).error, Error::kNone);  // and reusable
  EXPECT_EQ(src->target(), "/v1/models");

  Request assigned;
  ASSERT_EQ(parse_req(kWrk, assigned).error, Error::kNone);
  assigned = std::move(moved);
  EXPECT_EQ(flatten(assigned), expected);
  EXPECT_TRUE(moved.fields().empty());
  EXPECT_EQ(moved.method_string(), "");
  EXPECT_EQ(moved.target(), "");
  EXPECT_EQ(moved.framing(), Framing::kNone);
  src.reset();
  EXPECT_EQ(flatten(assigned), expected);

  Request& alias = assigned;
  assigned = std::move(alias);
  EXPECT_EQ(flatten(assigned), expected);

  // In a vector that reallocates, every element keeps its own fields.
  std::vector<Request> many;
  for (int i = 0; i < 20; ++i) {
    Request r;
    ASSERT_EQ(
        parse_req(
            request_with("X-I: " + std::to_string(i) + "\r\n", "GET /" + std::to_string(i) + " HTTP/1.1"), r)
            .error,
        Error::kNone);
    many.push_back(i % 2 ? std::move(r) : r);
  }
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(many[i]["x-i"], std::to_string(i));
    EXPECT_EQ(many[i].target(), "/" + std::to_string(i));
  }
}

TEST(H1Request, HandBuiltRequest) {
  const Request r(bhttp::verb::post, "/v1/embeddings", 11);
  EXPECT_EQ(r.method(), bhttp::verb::post);
  EXPECT_EQ(r.method_string(), "POST");
  EXPECT_EQ(r.target(), "/v1/embeddings");
  EXPECT_EQ(r.version(), 11u);
  EXPECT_TRUE(r.keep_alive());
  EXPECT_EQ(r.framing(), Framing::kNone);
  EXPECT_TRUE(r.fields().empty());
  const Request copy = r;
  EXPECT_EQ(copy.target(), "/v1/embeddings");
  const Request old(bhttp::verb::get, "/", 10);
  EXPECT_EQ(old.version(), 10u);
  EXPECT_FALSE(old.keep_alive());
  const Request empty;
  EXPECT_EQ(empty.method_string(), "");
  EXPECT_EQ(empty.target(), "");
}

TEST(H1Request, ReusedRequestKeepsNoStaleState) {
  Request r;
  ASSERT_EQ(
      parse_req(request_with("Transfer-Encoding: chunked\r\nExpect: 100-continue\r\nConnection: close\r\n",
                             "POST /upload HTTP/1.1"),
                r)
          .error,
      Error::kNone);
  EXPECT_EQ(r.framing(), Framing::kChunked);
  EXPECT_FALSE(r.keep_alive());
  ASSERT_EQ(parse_req(kWrk, r).error, Error::kNone);
  EXPECT_EQ(r.framing(), Framing::kNone);
  EXPECT_TRUE(r.keep_alive());
  EXPECT_FALSE(r.expect_continue());
  EXPECT_EQ(r.method(), bhttp::verb::get);
  EXPECT_EQ(r.fields().size(), 1u);
  // A failed parse leaves views that stay inside the storage.
  EXPECT_EQ(parse_req(request_with("X: \x01\r\n", "GET /a/much/longer/target/than/before HTTP/1.1"), r).error,
            Error::kBadField);
  (void)flatten(r);
}

// ---- responses -------------------------------------------------------------------------------------------

TEST(H1Response, ParsesATypicalResponse) {
  const std::string wire =
      "HTTP/1.1 200 OK\r\n"
      "Date: Mon, 01 Dec 2025 10:00:00 GMT\r\n"
      "Content-Type: application/json\r\n"
      "Content-Length: 2\r\n"
      "Connection: keep-alive\r\n"
      "openai-processing-ms: 123\r\n"
      "\r\n"
      "{}";
  ResponseHead h;
  const Parsed p = parse_resp(wire, h);
  ASSERT_EQ(p.error, Error::kNone);
  EXPECT_EQ(p.used, wire.size() - 2);
  EXPECT_EQ(h.status(), 200u);
  EXPECT_EQ(h.version(), 11u);
  EXPECT_TRUE(h.keep_alive());
  EXPECT_EQ(h.framing(), Framing::kLength);
  EXPECT_EQ(h.content_length(), 2u);
  EXPECT_EQ(h.fields().size(), 5u);
  EXPECT_EQ(h["OpenAI-Processing-Ms"], "123");
  EXPECT_EQ(h[bhttp::field::date], "Mon, 01 Dec 2025 10:00:00 GMT");
}

TEST(H1Response, Framing) {
  struct Case {
    std::string start, fields;
    Framing framing;
    bool keep_alive;
    std::uint64_t length = 0;
  };
  const std::vector<Case> cases = {
      {"HTTP/1.1 200 OK", "Content-Length: 10\r\n", Framing::kLength, true, 10},
      {"HTTP/1.1 200 OK", "Content-Length: 0\r\n", Framing::kLength, true, 0},
      {"HTTP/1.1 200 OK", "Content-Length: 7\r\nContent-Length: 7\r\n", Framing::kLength, true, 7},
      {"HTTP/1.1 200 OK", "Transfer-Encoding: chunked\r\n", Framing::kChunked, true},
      {"HTTP/1.1 200 OK", "Transfer-Encoding: gzip, chunked\r\n", Framing::kChunked, true},
      {"HTTP/1.1 200 OK", "Transfer-Encoding: chunked, gzip\r\n", Framing::kUntilClose, false},
      {"HTTP/1.1 200 OK", "Transfer-Encoding: gzip\r\n", Framing::kUntilClose, false},
      {"HTTP/1.1 200 OK", "Transfer-Encoding: chunked\r\nContent-Length: 10\r\n", Framing::kChunked, false},
      {"HTTP/1.1 200 OK", "Content-Length: bad\r\nTransfer-Encoding: chunked\r\n", Framing::kChunked, false},
      {"HTTP/1.1 200 OK", "", Framing::kUntilClose, false},
      {"HTTP/1.1 200 OK", "Connection: keep-alive\r\n", Framing::kUntilClose, false},
      {"HTTP/1.1 100 Continue", "", Framing::kNone, true},
      {"HTTP/1.1 101 Switching Protocols", "Connection: Upgrade\r\nUpgrade: websocket\r\n", Framing::kNone,
       true},
      {"HTTP/1.1 103 Early Hints", "Link: </s.css>; rel=preload\r\n", Framing::kNone, true},
      {"HTTP/1.1 204 No Content", "Content-Length: 10\r\n", Framing::kNone, true},
      {"HTTP/1.1 204 No Content", "Transfer-Encoding: chunked\r\n", Framing::kNone, true},
      {"HTTP/1.1 304 Not Modified", "Content-Length: 10\r\n", Framing::kNone, true},
      {"HTTP/1.1 304 Not Modified", "Content-Length: nonsense\r\n", Framing::kNone, true},
      {"HTTP/1.1 304 Not Modified", "Connection: close\r\n", Framing::kNone, false},
      {"HTTP/1.1 404 Not Found", "Content-Length: 9\r\nConnection: close\r\n", Framing::kLength, false, 9},
      {"HTTP/1.1 500 Internal Server Error", "Content-Length: 0\r\nConnection: Close\r\n", Framing::kLength,
       false},
      {"HTTP/1.0 200 OK", "Content-Length: 10\r\n", Framing::kLength, false, 10},
      {"HTTP/1.0 200 OK", "Content-Length: 10\r\nConnection: keep-alive\r\n", Framing::kLength, true, 10},
      {"HTTP/1.0 200 OK", "Transfer-Encoding: chunked\r\nConnection: keep-alive\r\n", Framing::kChunked,
       false},
      {"HTTP/1.0 200 OK", "", Framing::kUntilClose, false},
      {"HTTP/1.1 205 Reset Content", "Content-Length: 0\r\n", Framing::kLength, true},
  };
  for (const Case& c : cases) {
    ResponseHead h;
    ASSERT_EQ(parse_resp(response_with(c.fields, c.start), h).error, Error::kNone)
        << c.start << " " << c.fields;
    EXPECT_EQ(h.framing(), c.framing) << c.start << " " << c.fields;
    EXPECT_EQ(h.keep_alive(), c.keep_alive) << c.start << " " << c.fields;
    EXPECT_EQ(h.content_length(), c.length) << c.start << " " << c.fields;
  }
}

TEST(H1Response, BadContentLength) {
  EXPECT_EQ(resp_error(response_with("Content-Length: 5\r\nContent-Length: 6\r\n")),
            Error::kBadContentLength);
  EXPECT_EQ(resp_error(response_with("Content-Length: 5, 6\r\n")), Error::kBadContentLength);
  EXPECT_EQ(resp_error(response_with("Content-Length: -1\r\n")), Error::kBadContentLength);
  EXPECT_EQ(resp_error(response_with("Content-Length: 99999999999999999999\r\n")), Error::kBadContentLength);
  EXPECT_EQ(resp_error(response_with("Content-Length: \r\n")), Error::kBadContentLength);
}

TEST(H1Response, StatusLines) {
  ResponseHead h;
  ASSERT_EQ(parse_resp("HTTP/1.1 200\r\n\r\n", h).error, Error::kNone);  // no reason, no SP
  EXPECT_EQ(h.status(), 200u);
  ASSERT_EQ(parse_resp("HTTP/1.1 201 \r\n\r\n", h).error, Error::kNone);  // empty reason
  EXPECT_EQ(h.status(), 201u);
  ASSERT_EQ(parse_resp("HTTP/1.1 404 Not\tF\xc3\xb6und  \r\n\r\n", h).error, Error::kNone);
  EXPECT_EQ(h.status(), 404u);
  ASSERT_EQ(parse_resp("HTTP/1.1 999 Whatever\r\n\r\n", h).error, Error::kNone);
  EXPECT_EQ(h.status(), 999u);
  ASSERT_EQ(parse_resp("HTTP/1.1 100 Continue\r\n\r\n", h).error, Error::kNone);
  EXPECT_EQ(h.status(), 100u);
  ASSERT_EQ(parse_resp("HTTP/1.0 302 Found\r\nLocation: /x\r\n\r\n", h).error, Error::kNone);
  EXPECT_EQ(h.status(), 302u);
  EXPECT_EQ(h.version(), 10u);
  EXPECT_EQ(h["location"], "/x");

  const std::vector<Bad> cases = {
      {"HTTP/1.1 099 Low\r\n\r\n", Error::kBadStartLine},
      {"HTTP/1.1 000\r\n\r\n", Error::kBadStartLine},
      {"HTTP/1.1 20 OK\r\n\r\n", Error::kBadStartLine},
      {"HTTP/1.1 2000 OK\r\n\r\n", Error::kBadStartLine},
      {"HTTP/1.1 20x OK\r\n\r\n", Error::kBadStartLine},
      {"HTTP/1.1 abc OK\r\n\r\n", Error::kBadStartLine},
      {"HTTP/1.1  200 OK\r\n\r\n", Error::kBadStartLine},
      {"HTTP/1.1\t200 OK\r\n\r\n", Error::kBadStartLine},
      {"HTTP/1.1 200\tOK\r\n\r\n", Error::kBadStartLine},
      {"HTTP/1.1 200 OK\x01\r\n\r\n", Error::kBadStartLine},
      {"HTTP/1.1 200 O\0K\r\n\r\n"s, Error::kBadStartLine},
      {"HTTP/1.1 200 OK\x7f\r\n\r\n", Error::kBadStartLine},
      {"HTTP/1.1 200 O\rK\r\n\r\n", Error::kBadStartLine},
      {"HTTP/1.1\r\n\r\n", Error::kBadStartLine},
      {"HTTP/1.1x 200 OK\r\n\r\n", Error::kBadStartLine},
      {"http/1.1 200 OK\r\n\r\n", Error::kBadStartLine},
      {"ICY 200 OK\r\n\r\n", Error::kBadStartLine},
      {"ICY", Error::kBadStartLine},                          // rejected before a terminator
      {"HTTQ", Error::kBadStartLine},                         // rejected before a terminator
      {"\r\nHTTP/1.1 200 OK\r\n\r\n", Error::kBadStartLine},  // no empty lines before a status line
      {"HTTP/2.0 200 OK\r\n\r\n", Error::kBadVersion},
      {"HTTP/2 200 OK\r\n\r\n", Error::kBadVersion},
      {"HTTP/1.2 200 OK\r\n\r\n", Error::kBadVersion},
      {"HTTP/1.1 200 OK\r\nX : y\r\n\r\n", Error::kBadField},
      {"HTTP/1.1 200 OK\r\nX: y\r\n z\r\n\r\n", Error::kBadField},
      {"HTTP/1.1 200 OK\r\nX: \0\r\n\r\n"s, Error::kBadField},
      {"HTTP/1.1 200 OK\r\nX: a\rY: b\r\n\r\n", Error::kBadField},
      {"HTTP/1.1 200 OK\rServer: x\r\n\r\n", Error::kBadStartLine},
  };
  for (const Bad& c : cases) {
    EXPECT_EQ(resp_error(c.wire), c.error) << testing::PrintToString(c.wire);
  }
  EXPECT_EQ(resp_error(""), Error::kNeedMore);
  EXPECT_EQ(resp_error("HTT"), Error::kNeedMore);
  EXPECT_EQ(resp_error("HTTP/1.1 200 OK\r\n"), Error::kNeedMore);
}

TEST(H1Response, InterimHeadsComeOneAtATime) {
  const std::string final_head = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n";
  const std::string wire =
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: <a>\r\n\r\n" + final_head + "abc";
  ResponseHead h;
  std::string_view rest = wire;
  std::vector<unsigned> statuses;
  for (;;) {
    const Parsed p = parse_resp(rest, h);
    ASSERT_EQ(p.error, Error::kNone);
    statuses.push_back(h.status());
    rest.remove_prefix(p.used);
    if (h.status() >= 200) break;
  }
  EXPECT_EQ(statuses, (std::vector<unsigned>{100, 103, 200}));
  EXPECT_EQ(rest, "abc");
  EXPECT_EQ(h.fields().size(), 1u);
  EXPECT_EQ(h["link"], "");
  EXPECT_EQ(h.framing(), Framing::kLength);
}

TEST(H1Response, ByteByByteAndLimit) {
  const std::string wire = response_with("Content-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n");
  expect_incremental_matches_whole<ResponseHead>(
      wire, [](std::string_view in, ResponseHead& h, std::size_t& u, std::size_t& s) {
        return parse_response(in, h, u, s);
      });
  ResponseHead h;
  EXPECT_EQ(parse_resp(wire, h, Limits{wire.size()}).error, Error::kNone);
  EXPECT_EQ(h.framing(), Framing::kChunked);
  EXPECT_EQ(parse_resp(wire, h, Limits{wire.size() - 1}).error, Error::kHeadTooLarge);
  EXPECT_EQ(parse_resp(wire.substr(0, 20), h, Limits{20}).error, Error::kNeedMore);
  EXPECT_EQ(parse_resp(wire.substr(0, 21), h, Limits{20}).error, Error::kHeadTooLarge);
}

TEST(H1Describe, EveryErrorHasItsOwnMessage) {
  std::vector<std::string> seen;
  for (int i = 0; i <= static_cast<int>(Error::kRepeatedField); ++i) {
    const std::string_view m = describe(static_cast<Error>(i));
    EXPECT_FALSE(m.empty());
    EXPECT_EQ(std::find(seen.begin(), seen.end(), m), seen.end()) << m;
    seen.emplace_back(m);
  }
  EXPECT_EQ(describe(Error::kBadField), "malformed header field");
}

// ---- bodies ----------------------------------------------------------------------------------------------

struct Decoded {
  std::string body;
  Error error = Error::kNone;
  bool done = false;
  std::size_t used = 0;
};

// Feeds `pieces` in order, keeping what the decoder did not use for the next call (as a read buffer would),
// through an output span of `out_size` bytes.
Decoded decode_pieces(BodyDecoder& d, const std::vector<std::string_view>& pieces,
                      std::size_t out_size = 4096) {
  Decoded r;
  std::string pending;
  std::vector<char> out(out_size);
  for (std::string_view piece : pieces) {
    pending.append(piece);
    for (;;) {
      const BodyDecoder::Step s = d.decode(pending, out);
      EXPECT_LE(s.used, pending.size());
      EXPECT_LE(s.produced, out.size());
      r.body.append(out.data(), s.produced);
      pending.erase(0, s.used);
      r.used += s.used;
      if (s.error != Error::kNone) {
        r.error = s.error;
        r.done = d.done();
        return r;
      }
      if (s.used == 0 && s.produced == 0) break;
    }
  }
  r.done = d.done();
  return r;
}

Decoded decode_all(Framing f, std::string_view in, std::uint64_t length = 0, std::uint64_t limit = UINT64_MAX,
                   std::size_t out_size = 4096) {
  BodyDecoder d;
  d.reset(f, length, limit);
  return decode_pieces(d, {in}, out_size);
}

Decoded chunked(std::string_view in, std::uint64_t limit = UINT64_MAX) {
  return decode_all(Framing::kChunked, in, 0, limit);
}

TEST(H1Body, DefaultAndNoneAreDoneAtOnce) {
  BodyDecoder d;
  EXPECT_TRUE(d.done());
  std::array<char, 8> out{};
  auto s = d.decode("abc", out);
  EXPECT_EQ(s.used, 0u);
  EXPECT_EQ(s.produced, 0u);
  EXPECT_EQ(s.error, Error::kNone);
  d.reset(Framing::kNone);
  EXPECT_TRUE(d.done());
  s = d.decode("abc", out);
  EXPECT_EQ(s.used, 0u);
  EXPECT_EQ(d.finish(), Error::kNone);
  d.reset(Framing::kLength, 0);
  EXPECT_TRUE(d.done());
  EXPECT_EQ(d.decode("abc", out).used, 0u);
  EXPECT_EQ(d.remaining(), 0u);
}

TEST(H1Body, ContentLengthStopsAtTheEnd) {
  const Decoded r = decode_all(Framing::kLength, "hello worldGET / HTTP/1.1\r\n", 11);
  EXPECT_EQ(r.error, Error::kNone);
  EXPECT_TRUE(r.done);
  EXPECT_EQ(r.body, "hello world");
  EXPECT_EQ(r.used, 11u);

  BodyDecoder d;
  d.reset(Framing::kLength, 10);
  EXPECT_FALSE(d.done());
  EXPECT_EQ(d.remaining(), 10u);
  std::array<char, 4> out{};
  auto s = d.decode("abcdef", out);  // `out` bounds it
  EXPECT_EQ(s.used, 4u);
  EXPECT_EQ(s.produced, 4u);
  EXPECT_EQ(std::string(out.data(), 4), "abcd");
  EXPECT_EQ(d.remaining(), 6u);
  EXPECT_EQ(d.decoded(), 4u);
  s = d.decode("ef", out);  // the input bounds it
  EXPECT_EQ(s.used, 2u);
  EXPECT_FALSE(d.done());
  s = d.decode("", out);
  EXPECT_EQ(s.used, 0u);
  EXPECT_EQ(s.error, Error::kNone);
  s = d.decode("ghijkl", out);
  EXPECT_EQ(s.used, 4u);
  EXPECT_TRUE(d.done());
  EXPECT_EQ(d.remaining(), 0u);
  EXPECT_EQ(d.decoded(), 10u);
  s = d.decode("more", out);
  EXPECT_EQ(s.used, 0u);
  EXPECT_EQ(s.produced, 0u);
}

TEST(H1Body, ContentLengthLimit) {
  BodyDecoder d;
  d.reset(Framing::kLength, 11, 10);
  EXPECT_EQ(d.error(), Error::kBodyTooLarge);
  EXPECT_FALSE(d.done());
  std::array<char, 16> out{};
  const auto s = d.decode("hello world", out);
  EXPECT_EQ(s.error, Error::kBodyTooLarge);
  EXPECT_EQ(s.used, 0u);
  EXPECT_EQ(s.produced, 0u);
  EXPECT_EQ(d.finish(), Error::kBodyTooLarge);
  std::string body;
  EXPECT_EQ(d.decode_append("hello", body).error, Error::kBodyTooLarge);
  EXPECT_TRUE(body.empty());

  const Decoded ok = decode_all(Framing::kLength, "0123456789", 10, 10);
  EXPECT_EQ(ok.error, Error::kNone);
  EXPECT_TRUE(ok.done);
  EXPECT_EQ(ok.body, "0123456789");
}

TEST(H1Body, ChunkedBasics) {
  const Decoded r = chunked("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n");
  EXPECT_EQ(r.error, Error::kNone);
  EXPECT_TRUE(r.done);
  EXPECT_EQ(r.body, "hello world");
  EXPECT_EQ(r.used, std::string_view("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n").size());

  const Decoded empty = chunked("0\r\n\r\nX");
  EXPECT_EQ(empty.error, Error::kNone);
  EXPECT_TRUE(empty.done);
  EXPECT_EQ(empty.body, "");
  EXPECT_EQ(empty.used, 5u);
}

TEST(H1Body, ChunkSizes) {
  EXPECT_EQ(chunked("A\r\n0123456789\r\n0\r\n\r\n").body, "0123456789");
  EXPECT_EQ(chunked("a\r\n0123456789\r\n0\r\n\r\n").body, "0123456789");
  EXPECT_EQ(chunked("000A\r\n0123456789\r\n000\r\n\r\n").body, "0123456789");
  const Decoded sixteen = chunked("000000000000000A\r\n0123456789\r\n0000000000000000\r\n\r\n");
  EXPECT_EQ(sixteen.error, Error::kNone);
  EXPECT_EQ(sixteen.body, "0123456789");
  EXPECT_TRUE(sixteen.done);
  // 17 digits is refused even when the value would fit.
  EXPECT_EQ(chunked("0000000000000000A\r\n0123456789\r\n0\r\n\r\n").error, Error::kBadChunk);
  EXPECT_EQ(chunked("10000000000000000\r\n").error, Error::kBadChunk);
  EXPECT_EQ(chunked("FFFFFFFFFFFFFFFFF\r\n").error, Error::kBadChunk);
  // The largest size parses, then the limit refuses it before any data.
  const Decoded huge = chunked("FFFFFFFFFFFFFFFF\r\nabc", 1 << 20);
  EXPECT_EQ(huge.error, Error::kBodyTooLarge);
  EXPECT_EQ(huge.body, "");
  const Decoded fits = chunked("FFFFFFFFFFFFFFFF\r\nabc");
  EXPECT_EQ(fits.error, Error::kNone);
  EXPECT_EQ(fits.body, "abc");
  EXPECT_FALSE(fits.done);
}

TEST(H1Body, ChunkExtensionsAreIgnored) {
  const Decoded r = chunked(
      "5;name=value\r\nhello\r\n"
      "6;a;b=\"quoted \xc3\xa9\tstring\"\r\n world\r\n"
      "1 ;bws=1\r\n!\r\n"
      "0;last\r\n\r\n");
  EXPECT_EQ(r.error, Error::kNone);
  EXPECT_TRUE(r.done);
  EXPECT_EQ(r.body, "hello world!");

  EXPECT_EQ(chunked("5;" + std::string(4000, 'x') + "\r\nhello\r\n0\r\n\r\n").body, "hello");
  EXPECT_EQ(chunked("5;" + std::string(5000, 'x') + "\r\nhello\r\n0\r\n\r\n").error, Error::kBadChunk);
  EXPECT_EQ(chunked("5;a\x01\r\nhello\r\n0\r\n\r\n").error, Error::kBadChunk);
  EXPECT_EQ(chunked("5;a\0\r\nhello\r\n0\r\n\r\n"s).error, Error::kBadChunk);
  EXPECT_EQ(chunked("5;a\x7f\r\nhello\r\n0\r\n\r\n").error, Error::kBadChunk);
  EXPECT_EQ(chunked("5;a\nhello\r\n0\r\n\r\n").error, Error::kBadChunk);
}

TEST(H1Body, Trailers) {
  const Decoded r = chunked("5\r\nhello\r\n0\r\nX-Checksum: abc\r\nX-Other: 1\r\n\r\nNEXT");
  EXPECT_EQ(r.error, Error::kNone);
  EXPECT_TRUE(r.done);
  EXPECT_EQ(r.body, "hello");
  EXPECT_EQ(r.used, std::string_view("5\r\nhello\r\n0\r\nX-Checksum: abc\r\nX-Other: 1\r\n\r\n").size());

  // Up to 16 KiB of trailer is read and dropped; more is refused.
  std::string trailer;
  while (trailer.size() < 15000) trailer += "X-Pad: " + std::string(90, 'p') + "\r\n";
  EXPECT_TRUE(chunked("0\r\n" + trailer + "\r\n").done);
  EXPECT_EQ(chunked("0\r\n" + trailer + trailer + "\r\n").error, Error::kBadChunk);
  EXPECT_EQ(chunked("0\r\nX: " + std::string(20000, 'a')).error, Error::kBadChunk);
  EXPECT_EQ(chunked("0\r\nX: a\nY: b\r\n\r\n").error, Error::kBadChunk);  // bare LF
  EXPECT_EQ(chunked("0\r\nX: a\rY: b\r\n\r\n").error, Error::kBadChunk);  // bare CR
  EXPECT_EQ(chunked("0\r\n\n").error, Error::kBadChunk);                  // LF as the empty line
  EXPECT_EQ(chunked("0\r\n\rX").error, Error::kBadChunk);
  const Decoded unfinished = chunked("0\r\nX: a\r\n");
  EXPECT_EQ(unfinished.error, Error::kNone);
  EXPECT_FALSE(unfinished.done);
}

TEST(H1Body, MalformedChunks) {
  const std::vector<std::string> cases = {
      "5\r\nhelloX\r\n0\r\n\r\n",    // no CRLF after the data
      "5\r\nhello\rX0\r\n\r\n",      // CR without LF after the data
      "5\r\nhello\n0\r\n\r\n",       // bare LF after the data
      "5\r\nhello\r\r\n",            // CR CR LF after the data
      "\r\n",                        // no size
      ";x\r\n",                      // extension without a size
      " 5\r\n",                      // leading whitespace
      "g\r\n",                       // not hex
      "-5\r\n",                      // sign
      "0x5\r\n",                     // C-style prefix
      "5\n",                         // bare LF after the size
      "5\rX",                        // CR without LF after the size
      "5\r\nhello\r\nX\r\n",         // a second size that is not hex
      "5;a\r\nhello\r\n0;\x01\r\n",  // a CTL in the last chunk's extension
  };
  for (const std::string& c : cases) {
    EXPECT_EQ(chunked(c).error, Error::kBadChunk) << testing::PrintToString(c);
  }
}

TEST(H1Body, ChunkSizeWhitespace) {
  // Whitespace after the size starts the (ignored) extensions, as nginx reads it: the size is the hex digits.
  EXPECT_EQ(chunked("5 \r\nhello\r\n0\r\n\r\n").body, "hello");
  EXPECT_EQ(chunked("5\t;x\r\nhello\r\n0\r\n\r\n").body, "hello");
  EXPECT_EQ(chunked("5  ;x\r\nhello\r\n0 \r\n\r\n").body, "hello");
}

TEST(H1Body, ErrorsStick) {
  BodyDecoder d;
  d.reset(Framing::kChunked);
  std::array<char, 16> out{};
  auto s = d.decode("5\r\nhelloX", out);
  EXPECT_EQ(s.error, Error::kBadChunk);
  EXPECT_EQ(s.produced, 5u);
  EXPECT_EQ(d.error(), Error::kBadChunk);
  s = d.decode("\r\n0\r\n\r\n", out);
  EXPECT_EQ(s.error, Error::kBadChunk);
  EXPECT_EQ(s.used, 0u);
  EXPECT_EQ(s.produced, 0u);
  EXPECT_EQ(d.finish(), Error::kBadChunk);
  d.reset(Framing::kChunked);  // a reset clears it
  EXPECT_EQ(d.error(), Error::kNone);
  EXPECT_EQ(decode_pieces(d, {"0\r\n\r\n"}).done, true);
}

// A fixed message with several chunks, an extension and trailers, then the next request.
const std::string kChunkedMessage =
    "4\r\nWiki\r\n"
    "7;ext=\"v\"\r\npedia i\r\n"
    "B\r\nn \r\nchunks.\r\n"
    "01\r\n!\r\n"
    "0\r\n"
    "Expires: never\r\n"
    "\r\n";
const std::string kChunkedBody = "Wikipedia in \r\nchunks.!";

TEST(H1Body, ChunkedSplitAtEveryPosition) {
  const std::string wire = kChunkedMessage + "GET /";
  for (std::size_t cut = 0; cut <= wire.size(); ++cut) {
    BodyDecoder d;
    d.reset(Framing::kChunked);
    const std::string_view w = wire;
    const Decoded r = decode_pieces(d, {w.substr(0, cut), w.substr(cut)});
    ASSERT_EQ(r.error, Error::kNone) << cut;
    EXPECT_TRUE(r.done) << cut;
    EXPECT_EQ(r.body, kChunkedBody) << cut;
    EXPECT_EQ(r.used, kChunkedMessage.size()) << cut;
    EXPECT_EQ(d.decoded(), kChunkedBody.size());
  }
}

TEST(H1Body, ChunkedOneByteAtATime) {
  BodyDecoder d;
  d.reset(Framing::kChunked);
  std::string body;
  std::array<char, 64> out{};
  std::size_t i = 0;
  for (; i < kChunkedMessage.size(); ++i) {
    ASSERT_FALSE(d.done()) << i;
    const auto s = d.decode(std::string_view(kChunkedMessage).substr(i, 1), out);
    ASSERT_EQ(s.error, Error::kNone) << i;
    ASSERT_EQ(s.used, 1u) << i;  // every byte is taken: none are held back for later
    body.append(out.data(), s.produced);
  }
  EXPECT_TRUE(d.done());
  EXPECT_EQ(body, kChunkedBody);
  EXPECT_EQ(d.decode("G", out).used, 0u);
}

TEST(H1Body, OneByteOutput) {
  for (Framing f : {Framing::kChunked, Framing::kLength}) {
    const std::string wire = f == Framing::kChunked ? kChunkedMessage : kChunkedBody;
    BodyDecoder d;
    d.reset(f, kChunkedBody.size());
    std::string body;
    std::string_view in = wire;
    std::array<char, 1> out{};
    int calls = 0;
    while (!d.done()) {
      ASSERT_LT(++calls, 1000);
      const auto s = d.decode(in, out);
      ASSERT_EQ(s.error, Error::kNone);
      ASSERT_LE(s.produced, 1u);
      if (s.produced == 1) {
        body.push_back(out[0]);  // not append(data, n): GCC 12 -O2 then warns about a 2-byte read
      }
      in.remove_prefix(s.used);
    }
    EXPECT_EQ(body, kChunkedBody);
    EXPECT_TRUE(in.empty());
  }
  // An output that fits the body exactly still completes the message, trailers included.
  BodyDecoder d;
  d.reset(Framing::kChunked);
  std::vector<char> out(kChunkedBody.size());
  const auto s = d.decode(kChunkedMessage, out);
  EXPECT_EQ(s.error, Error::kNone);
  EXPECT_EQ(s.used, kChunkedMessage.size());
  EXPECT_EQ(s.produced, kChunkedBody.size());
  EXPECT_TRUE(d.done());
  // An empty output still consumes framing up to the first data byte.
  d.reset(Framing::kChunked);
  const auto z = d.decode("5;x\r\nhello", std::span<char>());
  EXPECT_EQ(z.used, 5u);
  EXPECT_EQ(z.produced, 0u);
}

TEST(H1Body, ChunkedLimit) {
  const Decoded over = chunked("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", 10);
  EXPECT_EQ(over.error, Error::kBodyTooLarge);
  EXPECT_EQ(over.body, "hello");  // nothing past the limit was written
  const Decoded exact = chunked("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", 11);
  EXPECT_EQ(exact.error, Error::kNone);
  EXPECT_EQ(exact.body, "hello world");
  EXPECT_TRUE(exact.done);
  const Decoded zero = chunked("0\r\n\r\n", 0);
  EXPECT_TRUE(zero.done);
  EXPECT_EQ(chunked("1\r\n", 0).error, Error::kBodyTooLarge);
}

TEST(H1Body, UntilClose) {
  BodyDecoder d;
  d.reset(Framing::kUntilClose);
  EXPECT_FALSE(d.done());
  std::array<char, 8> out{};
  auto s = d.decode("0\r\n\r\nanything", out);
  EXPECT_EQ(s.used, 8u);
  EXPECT_EQ(std::string(out.data(), 8), "0\r\n\r\nany");
  EXPECT_FALSE(d.done());
  EXPECT_EQ(d.remaining(), 0u);
  EXPECT_EQ(d.finish(), Error::kNone);
  EXPECT_TRUE(d.done());
  EXPECT_EQ(d.finish(), Error::kNone);
  EXPECT_EQ(d.decode("x", out).used, 0u);

  d.reset(Framing::kUntilClose, 0, 5);
  s = d.decode("abc", out);
  EXPECT_EQ(s.error, Error::kNone);
  s = d.decode("defg", out);
  EXPECT_EQ(s.error, Error::kBodyTooLarge);
  EXPECT_EQ(s.produced, 2u);  // up to the limit, not past it
  EXPECT_EQ(d.decoded(), 5u);
  EXPECT_EQ(d.finish(), Error::kBodyTooLarge);

  std::string body;
  d.reset(Framing::kUntilClose, 0, 5);
  EXPECT_EQ(d.decode_append("abcde", body).error, Error::kNone);
  EXPECT_EQ(body, "abcde");
  EXPECT_EQ(d.decode_append("", body).error, Error::kNone);
  EXPECT_EQ(d.decode_append("f", body).error, Error::kBodyTooLarge);
  EXPECT_EQ(body, "abcde");
}

TEST(H1Body, FinishForEachFraming) {
  BodyDecoder d;
  d.reset(Framing::kNone);
  EXPECT_EQ(d.finish(), Error::kNone);

  d.reset(Framing::kLength, 3);
  EXPECT_EQ(decode_pieces(d, {"ab"}).error, Error::kNone);
  EXPECT_EQ(d.finish(), Error::kTruncated);
  EXPECT_EQ(d.error(), Error::kTruncated);
  EXPECT_EQ(d.decode("c", std::span<char>()).error, Error::kTruncated);
  d.reset(Framing::kLength, 3);
  EXPECT_TRUE(decode_pieces(d, {"abc"}).done);
  EXPECT_EQ(d.finish(), Error::kNone);

  d.reset(Framing::kChunked);
  EXPECT_EQ(d.finish(), Error::kTruncated);
  d.reset(Framing::kChunked);
  EXPECT_FALSE(decode_pieces(d, {"5\r\nhello\r\n0\r\n"}).done);  // the trailer section is missing
  EXPECT_EQ(d.finish(), Error::kTruncated);
  d.reset(Framing::kChunked);
  EXPECT_TRUE(decode_pieces(d, {"5\r\nhello\r\n0\r\n\r\n"}).done);
  EXPECT_EQ(d.finish(), Error::kNone);

  d.reset(Framing::kUntilClose);
  EXPECT_EQ(d.finish(), Error::kNone);
  EXPECT_TRUE(d.done());
}

TEST(H1Body, DecodeAppend) {
  BodyDecoder d;
  std::string body = "prefix:";
  d.reset(Framing::kLength, 5);
  auto s = d.decode_append("hel", body);
  EXPECT_EQ(s.used, 3u);
  EXPECT_EQ(s.produced, 3u);
  s = d.decode_append("lo+next", body);
  EXPECT_EQ(s.used, 2u);
  EXPECT_TRUE(d.done());
  EXPECT_EQ(body, "prefix:hello");

  body.clear();
  d.reset(Framing::kChunked);
  for (std::size_t i = 0; i < kChunkedMessage.size(); i += 7) {
    s = d.decode_append(std::string_view(kChunkedMessage).substr(i, 7), body);
    ASSERT_EQ(s.error, Error::kNone);
    ASSERT_EQ(s.used, std::min<std::size_t>(7, kChunkedMessage.size() - i));
  }
  EXPECT_TRUE(d.done());
  EXPECT_EQ(body, kChunkedBody);

  // A large body grows the string as needed.
  std::string big_wire;
  std::string big_body;
  for (int i = 0; i < 100; ++i) {
    const std::string chunk(1000 + i, static_cast<char>('a' + i % 26));
    char size[32];
    std::snprintf(size, sizeof size, "%zx\r\n", chunk.size());
    big_wire += size + chunk + "\r\n";
    big_body += chunk;
  }
  big_wire += "0\r\n\r\n";
  body.clear();
  d.reset(Framing::kChunked, 0, big_body.size());
  s = d.decode_append(big_wire, body);
  EXPECT_EQ(s.error, Error::kNone);
  EXPECT_EQ(s.used, big_wire.size());
  EXPECT_TRUE(d.done());
  EXPECT_EQ(body, big_body);

  body.clear();
  d.reset(Framing::kChunked, 0, big_body.size() - 1);
  s = d.decode_append(big_wire, body);
  EXPECT_EQ(s.error, Error::kBodyTooLarge);
  EXPECT_LT(body.size(), big_body.size());
  EXPECT_EQ(body, big_body.substr(0, body.size()));
}

// ---- robustness ------------------------------------------------------------------------------------------

TEST(H1Fuzz, RandomAndMutatedInputsNeverCrash) {
  std::mt19937 rng(20251201);
  const std::vector<std::string> seeds = {
      kCurl,
      kWrk,
      sdk_request(),
      request_with("Transfer-Encoding: gzip, chunked\r\nConnection: keep-alive, Upgrade\r\n",
                   "POST /x HTTP/1.1"),
      response_with("Content-Length: 5\r\nContent-Length: 5\r\n"),
      response_with("Transfer-Encoding: chunked\r\nConnection: close\r\n", "HTTP/1.0 204 No Content"),
      kChunkedMessage,
  };
  const std::string specials = "\r\n\t :,;\0\x7f\x80\xff"s;
  auto pick = [&](std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng); };
  int parsed_ok = 0;
  for (int iter = 0; iter < 2000; ++iter) {
    std::string in;
    if (iter % 4 == 0) {
      in.resize(pick(513));
      for (char& c : in) c = static_cast<char>(pick(256));
    } else {
      in = seeds[pick(seeds.size())];
      const std::size_t edits = 1 + pick(4);
      for (std::size_t e = 0; e < edits && !in.empty(); ++e) {
        const std::size_t at = pick(in.size());
        switch (pick(5)) {
          case 0:
            in[at] = static_cast<char>(pick(256));
            break;
          case 1:
            in[at] = specials[pick(specials.size())];
            break;
          case 2:
            in.insert(at, 1, specials[pick(specials.size())]);
            break;
          case 3:
            in.erase(at, 1 + pick(3));
            break;
          case 4:
            in.insert(at, in.substr(pick(in.size()), pick(16)));
            break;
        }
      }
      if (in.size() > 512) in.resize(512);
    }

    Request r;
    std::size_t used = 0, scan_from = 0;
    const Error re = parse_request(in, r, used, scan_from, Limits{256 + pick(512)});
    if (re == Error::kNone) {
      ++parsed_ok;
      ASSERT_LE(used, in.size());
      (void)flatten(r);
      // The same head fed in two pieces parses the same.
      Request again;
      std::size_t used2 = 0, scan2 = 0;
      const std::size_t cut = pick(used);
      ASSERT_EQ(parse_request(std::string_view(in).substr(0, cut), again, used2, scan2, Limits{1024}),
                Error::kNeedMore);
      ASSERT_EQ(parse_request(in, again, used2, scan2, Limits{1024}), Error::kNone);
      EXPECT_EQ(used2, used);
      EXPECT_EQ(flatten(again), flatten(r));
    }
    ResponseHead h;
    used = scan_from = 0;
    if (parse_response(in, h, used, scan_from) == Error::kNone) {
      ++parsed_ok;
      ASSERT_LE(used, in.size());
      for (Field f : h.fields()) (void)h[f.name];
    }
    for (Framing f : {Framing::kChunked, Framing::kLength, Framing::kUntilClose}) {
      BodyDecoder d;
      d.reset(f, pick(600), 300);
      std::string_view rest = in;
      std::array<char, 37> out{};
      for (int step = 0; step < 100 && !rest.empty(); ++step) {
        const auto s = d.decode(rest, out);
        ASSERT_LE(s.used, rest.size());
        ASSERT_LE(s.produced, out.size());
        ASSERT_LE(d.decoded(), 300u);
        if (s.error != Error::kNone || (s.used == 0 && s.produced == 0)) break;
        rest.remove_prefix(s.used);
      }
      (void)d.finish();
    }
  }
  EXPECT_GT(parsed_ok, 50);  // the mutations do leave many inputs valid
}

}  // namespace
}  // namespace sluice::http::h1
