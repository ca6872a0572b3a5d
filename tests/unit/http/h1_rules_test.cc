// h1 heads: bare LF line ends (RFC 9112 2.2) and the request field rules (RFC 9112 3.2: Host; fields that may
// appear only once).
#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "http/h1.h"

namespace sluice::http::h1 {
namespace {

struct Result {
  Error error = Error::kNone;
  std::size_t used = 0;
};

Result parse(std::string_view in, Request& r, std::size_t max_head = 64 * 1024) {
  Result out;
  std::size_t scan_from = 0;
  out.error = parse_request(in, r, out.used, scan_from, Limits{max_head});
  return out;
}

Error error_of(std::string_view in) {
  Request r;
  return parse(in, r).error;
}

std::string describe_request(const Request& r) {
  std::string s = std::string(r.method_string()) + " " + std::string(r.target()) + " " +
                  std::to_string(r.version()) + " framing=" + std::to_string(static_cast<int>(r.framing())) +
                  " length=" + std::to_string(r.content_length()) +
                  " keep_alive=" + std::to_string(r.keep_alive()) + " |";
  for (Field f : r) s += std::string(f.name) + "=" + std::string(f.value) + ";";
  return s;
}

std::string with_bare_lf(std::string crlf, bool every_other = false) {
  std::string out;
  int n = 0;
  for (std::size_t i = 0; i < crlf.size(); ++i) {
    if (crlf.compare(i, 2, "\r\n") == 0 && (!every_other || n++ % 2 == 0)) {
      continue;  // drop the CR
    }
    out += crlf[i];
  }
  return out;
}

const std::vector<std::string> kHeads = {
    "GET /v1/models HTTP/1.1\r\nHost: localhost:8080\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n",
    "POST /v1/chat/completions HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\n"
    "Content-Length: 12\r\nConnection: close\r\n\r\n",
    "POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n",
    "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
};

TEST(H1BareLf, HeadsParseAsTheirCrlfTwins) {
  for (const std::string& crlf : kHeads) {
    for (bool every_other : {false, true}) {
      const std::string bare = with_bare_lf(crlf, every_other);
      SCOPED_TRACE(testing::PrintToString(bare));
      Request want, got;
      ASSERT_EQ(parse(crlf, want).error, Error::kNone);
      const Result r = parse(bare + "BODY", got);
      ASSERT_EQ(r.error, Error::kNone);
      EXPECT_EQ(r.used, bare.size());  // what was received, not the CRLF copy
      EXPECT_EQ(describe_request(got), describe_request(want));
    }
  }
}

TEST(H1BareLf, EveryBlankLineSpellingEndsTheHead) {
  for (std::string_view blank : {"\n\n", "\n\r\n", "\r\n\n", "\r\n\r\n"}) {
    const std::string wire = "GET / HTTP/1.1\r\nHost: a" + std::string(blank);
    Request r;
    const Result res = parse(wire + "rest", r);
    ASSERT_EQ(res.error, Error::kNone) << testing::PrintToString(wire);
    EXPECT_EQ(res.used, wire.size());
    EXPECT_EQ(r["host"], "a");
    // Ending exactly at the end of what was received: complete, not "need more".
    EXPECT_EQ(parse(wire, r).error, Error::kNone);
    EXPECT_EQ(parse(wire.substr(0, wire.size() - 1), r).error, Error::kNeedMore);
  }
  EXPECT_EQ(error_of("GET / HTTP/1.1\r\nHost: a\n\r"), Error::kNeedMore);  // LF CR: wait for the next byte
  EXPECT_EQ(error_of("GET / HTTP/1.1\r\nHost: a\n\rX: b\n\n"), Error::kBadField);  // ... a bare CR
}

TEST(H1BareLf, FedByteByByteOrInTwoPiecesMatchesWhole) {
  for (const std::string& crlf : kHeads) {
    const std::string wire = with_bare_lf(crlf, true);
    Request whole;
    ASSERT_EQ(parse(wire, whole).error, Error::kNone);
    Request piecewise;
    std::size_t scan_from = 0, used = 0;
    for (std::size_t n = 0; n <= wire.size(); ++n) {
      const Error e = parse_request(std::string_view(wire).substr(0, n), piecewise, used, scan_from);
      ASSERT_EQ(e, n < wire.size() ? Error::kNeedMore : Error::kNone) << n;
    }
    EXPECT_EQ(used, wire.size());
    EXPECT_EQ(describe_request(piecewise), describe_request(whole));
    for (std::size_t cut = 1; cut < wire.size(); ++cut) {
      Request r;
      std::size_t s = 0, u = 0;
      ASSERT_EQ(parse_request(std::string_view(wire).substr(0, cut), r, u, s), Error::kNeedMore);
      ASSERT_EQ(parse_request(wire, r, u, s), Error::kNone) << cut;
      EXPECT_EQ(describe_request(r), describe_request(whole)) << cut;
    }
  }
}

TEST(H1BareLf, ABareCrIsStillRejected) {
  EXPECT_EQ(error_of("GET / HTTP/1.1\nHost: a\rX: b\n\n"), Error::kBadField);
  EXPECT_EQ(error_of("GET / HTTP/1.1\r\rHost: a\n\n"), Error::kBadStartLine);
  EXPECT_EQ(error_of("GET / HTTP/1.1\nHost: a\r\r\n\n"), Error::kBadField);
  EXPECT_EQ(error_of("GET / HTTP/1.1\nHost: a\n \n\n"), Error::kBadField);  // obs-fold, bare-LF spelling
  EXPECT_EQ(error_of("GET /a\nb HTTP/1.1\n\n"), Error::kBadStartLine);      // the LF ends the line early
}

TEST(H1BareLf, TheLimitCountsReceivedBytes) {
  const std::string wire = with_bare_lf(kHeads[0]);
  Request r;
  EXPECT_EQ(parse(wire, r, wire.size()).error, Error::kNone);  // its CRLF copy is longer than the limit
  EXPECT_EQ(parse(wire, r, wire.size() - 1).error, Error::kHeadTooLarge);
}

TEST(H1BareLf, LeadingEmptyLinesOfEitherSpellingAreSkipped) {
  const std::string wire = "\n\r\n\n" + kHeads[0];
  Request r;
  const Result res = parse(wire, r);
  ASSERT_EQ(res.error, Error::kNone);
  EXPECT_EQ(res.used, wire.size());
  EXPECT_EQ(r.target(), "/v1/models");
}

TEST(H1BareLf, ResponsesToo) {
  const std::string wire = "HTTP/1.1 200 OK\nContent-Type: application/json\nContent-Length: 2\n\n";
  ResponseHead h;
  std::size_t used = 0, scan_from = 0;
  ASSERT_EQ(parse_response(wire + "{}", h, used, scan_from), Error::kNone);
  EXPECT_EQ(used, wire.size());
  EXPECT_EQ(h.status(), 200u);
  EXPECT_EQ(h.framing(), Framing::kLength);
  EXPECT_EQ(h.content_length(), 2u);
  EXPECT_EQ(h["content-type"], "application/json");
  scan_from = 0;
  EXPECT_EQ(parse_response("HTTP/1.1 200 OK\nX: a\rb\n\n", h, used, scan_from), Error::kBadField);
  scan_from = 0;
  EXPECT_EQ(parse_response("HTTP/1.1 200 OK\n", h, used, scan_from), Error::kNeedMore);
}

// ---- Host and fields that may appear only once --------------------------------------------------------

TEST(H1FieldRules, Http11NeedsHost) {
  EXPECT_EQ(error_of("GET / HTTP/1.1\r\n\r\n"), Error::kMissingHost);
  EXPECT_EQ(error_of("GET / HTTP/1.1\r\nHostname: a\r\n\r\n"), Error::kMissingHost);
  EXPECT_EQ(error_of("GET / HTTP/1.0\r\n\r\n"), Error::kNone);  // HTTP/1.0 predates Host
  EXPECT_EQ(error_of("GET / HTTP/1.1\r\nhOsT: a\r\n\r\n"), Error::kNone);
}

TEST(H1FieldRules, HostValues) {
  for (std::string_view ok :
       {"", "a", "example.com", "example.com:8080", "127.0.0.1:80", "[::1]", "[::1]:8080", "[v1.fe80::a+en1]",
        "xn--bcher-kva.example", "a_b.example", "a%20b", "host:", "!$&'()*+,;=-._~"}) {
    EXPECT_EQ(error_of("GET / HTTP/1.1\r\nHost: " + std::string(ok) + "\r\n\r\n"), Error::kNone) << ok;
  }
  for (std::string_view bad : {"a b", "a/b", "a@b", "a?b", "a#b", "[::1", "[::1]x", "::1]", "a:8o", "a:80:90",
                               "exa\xc3\xa9mple", "a\"b", "a\\b", "[::1]:80a", "<a>"}) {
    EXPECT_EQ(error_of("GET / HTTP/1.1\r\nHost: " + std::string(bad) + "\r\n\r\n"), Error::kBadHost) << bad;
  }
  EXPECT_EQ(error_of("GET / HTTP/1.0\r\nHost: a b\r\n\r\n"), Error::kBadHost);  // checked in 1.0 when sent
}

TEST(H1FieldRules, FieldsThatMayAppearOnlyOnce) {
  for (std::string_view name :
       {"Host", "Authorization", "Content-Type", "X-Priority", "X-Request-Timeout", "x-sluice-admin-key"}) {
    SCOPED_TRACE(name);
    std::string lower(name);
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const std::string host = lower == "host" ? "" : "Host: h\r\n";
    // Once: fine.
    EXPECT_EQ(error_of("POST / HTTP/1.1\r\n" + host + std::string(name) + ": a\r\n\r\n"), Error::kNone);
    // Twice, even with the same value or another spelling of the name: rejected, and the name is reported.
    for (std::string_view second : {name, std::string_view(lower)}) {
      const std::string wire = "POST / HTTP/1.1\r\n" + host + std::string(name) + ": a\r\nX-Other: o\r\n" +
                               std::string(second) + ": a\r\n\r\n";
      Request r;
      ASSERT_EQ(parse(wire, r).error, Error::kRepeatedField) << wire;
      EXPECT_EQ(repeated_field(r), second);
    }
  }
}

TEST(H1FieldRules, OtherFieldsMayRepeat) {
  Request r;
  ASSERT_EQ(parse("GET / HTTP/1.1\r\nHost: h\r\nAccept: a\r\nAccept: b\r\nX-Tenant: 1\r\nX-Tenant: 2\r\n"
                  "Cookie: a\r\nCookie: b\r\nHost-Name: x\r\nX-Priority-Class: a\r\nX-Priority-Class: b\r\n"
                  "Authorization-Extra: 1\r\nAuthorization-Extra: 2\r\n\r\n",
                  r)
                .error,
            Error::kNone);
  EXPECT_EQ(repeated_field(r), "");
}

TEST(H1FieldRules, FramingErrorsComeFirst) {
  EXPECT_EQ(error_of("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 1\r\n\r\n"),
            Error::kBadTransferEncoding);
  EXPECT_EQ(
      error_of("POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\nHost: a\r\nHost: b\r\n\r\n"),
      Error::kBadContentLength);
  EXPECT_EQ(error_of("POST / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"), Error::kRepeatedField);
  // A repeated field wins over a missing or bad Host: the message names the field.
  EXPECT_EQ(error_of("POST / HTTP/1.1\r\nAuthorization: a\r\nAuthorization: b\r\n\r\n"),
            Error::kRepeatedField);
}

TEST(H1FieldRules, ResponsesHaveNone) {
  ResponseHead h;
  std::size_t used = 0, scan_from = 0;
  EXPECT_EQ(parse_response("HTTP/1.1 200 OK\r\nContent-Type: a\r\nContent-Type: b\r\nHost: a b\r\n"
                           "Authorization: 1\r\nAuthorization: 2\r\nContent-Length: 0\r\n\r\n",
                           h, used, scan_from),
            Error::kNone);
}

TEST(H1FieldRules, Descriptions) {
  EXPECT_EQ(describe(Error::kMissingHost), "an HTTP/1.1 request needs a Host header");
  EXPECT_EQ(describe(Error::kBadHost), "invalid Host header");
  EXPECT_EQ(describe(Error::kRepeatedField), "a header that may appear only once is repeated");
}

}  // namespace
}  // namespace sluice::http::h1
