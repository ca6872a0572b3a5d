#include "http/h1.h"

#include <algorithm>
#include <array>
#include <cstring>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "common/strings.h"
#include "http/h1_head_rules.h"

namespace sluice::http::h1 {

namespace {

// Byte classes, so every scan is one table lookup per byte.
enum : std::uint8_t {
  kTchar = 1,   // token characters (RFC 9110 5.6.2)
  kValue = 2,   // field-value and reason-phrase bytes: HTAB, SP, VCHAR, obs-text
  kTarget = 4,  // request-target bytes: VCHAR, obs-text
  kHost = 8,    // reg-name and IPv4 bytes (RFC 3986 3.2.2): unreserved, sub-delims, "%"
  kDigit = 16,
};

constexpr std::array<std::uint8_t, 256> make_classes() {
  std::array<std::uint8_t, 256> t{};
  constexpr std::string_view kTcharPunct = "!#$%&'*+-.^_`|~";
  for (int c = 0; c < 256; ++c) {
    std::uint8_t k = 0;
    const bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (alnum || kTcharPunct.find(static_cast<char>(c)) != std::string_view::npos) k |= kTchar;
    if (c == '\t' || (c >= 0x20 && c != 0x7F)) k |= kValue;
    if (c > 0x20 && c != 0x7F) k |= kTarget;
    if (alnum || std::string_view("-._~%!$&'()*+,;=").find(static_cast<char>(c)) != std::string_view::npos) {
      k |= kHost;
    }
    if (c >= '0' && c <= '9') k |= kDigit;
    t[c] = k;
  }
  return t;
}
constexpr std::array<std::uint8_t, 256> kClass = make_classes();

constexpr std::array<char, 256> make_lower() {
  std::array<char, 256> t{};
  for (int c = 0; c < 256; ++c) t[c] = static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
  return t;
}
constexpr std::array<char, 256> kLower = make_lower();

inline bool is(char c, std::uint8_t k) { return (kClass[static_cast<unsigned char>(c)] & k) != 0; }
inline char lower(char c) { return kLower[static_cast<unsigned char>(c)]; }
// The end of a run of class-`k` bytes from h[p]: four lookups per branch, then one at a time. Only called
// inside a line, whose CR LF is followed by at least the head's final CR LF, so h[p + 3] is in bounds.
inline std::size_t skip_run(std::string_view h, std::size_t p, std::uint8_t k) {
  while (kClass[static_cast<unsigned char>(h[p])] & kClass[static_cast<unsigned char>(h[p + 1])] &
         kClass[static_cast<unsigned char>(h[p + 2])] & kClass[static_cast<unsigned char>(h[p + 3])] & k) {
    p += 4;
  }
  while (is(h[p], k)) ++p;
  return p;
}
#if defined(__SSE2__)
// Field values and request targets are the long runs of a head (tokens, user agents, paths): they are scanned
// 16 bytes per step for the first byte outside the class, then byte by byte from the table for the last
// partial block (bounded, as skip_run is, by the line's CR LF). `kTarget`: VCHAR and obs-text (0x21-0x7E,
// 0x80-0xFF); `kValue`: those, SP and HTAB. Bytes compare unsigned through min_epu8.
template <std::uint8_t k>
inline std::size_t skip_long_run(std::string_view h, std::size_t p) {
  static_assert(k == kValue || k == kTarget);
  const __m128i low_end = _mm_set1_epi8(k == kValue ? 0x1F : 0x20);  // bytes <= this are controls (or SP)
  const __m128i del = _mm_set1_epi8(0x7F);
  const __m128i tab = _mm_set1_epi8('\t');
  for (; p + 16 <= h.size(); p += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(h.data() + p));
    __m128i bad = _mm_cmpeq_epi8(_mm_min_epu8(v, low_end), v);
    if constexpr (k == kValue) {
      bad = _mm_andnot_si128(_mm_cmpeq_epi8(v, tab), bad);
    }
    bad = _mm_or_si128(bad, _mm_cmpeq_epi8(v, del));
    if (const int m = _mm_movemask_epi8(bad); m != 0) {
      return p + static_cast<std::size_t>(__builtin_ctz(static_cast<unsigned>(m)));
    }
  }
  while (is(h[p], k)) ++p;
  return p;
}
#else
template <std::uint8_t k>
inline std::size_t skip_long_run(std::string_view h, std::size_t p) {
  return skip_run(h, p, k);
}
#endif
inline bool ows(char c) { return c == ' ' || c == '\t'; }

// Whether a field name (token characters only) of N - 1 bytes is `lower`, a literal of lowercase letters and
// '-': OR-ing 0x20 into each byte lowercases letters and maps no other token character onto a letter or '-'
// (only CR, 0x0D, becomes '-'), so whole words compare at once. The caller has matched the length.
template <std::size_t N>
inline bool name_is(std::string_view name, const char (&lower)[N]) {
  constexpr std::size_t n = N - 1;
  auto word = [](const char* p, auto w) {
    std::memcpy(&w, p, sizeof w);
    return w;
  };
  if constexpr (n >= 8) {
    constexpr std::uint64_t kCase = 0x2020202020202020ull;
    for (std::size_t i = 0; i + 8 < n; i += 8) {
      if ((word(name.data() + i, std::uint64_t{}) | kCase) != word(lower + i, std::uint64_t{})) return false;
    }
    return (word(name.data() + n - 8, std::uint64_t{}) | kCase) == word(lower + n - 8, std::uint64_t{});
  } else {
    static_assert(n >= 4, "names of 4 to 7 bytes use two overlapping 32-bit words");
    constexpr std::uint32_t kCase = 0x20202020u;
    return (word(name.data(), std::uint32_t{}) | kCase) == word(lower, std::uint32_t{}) &&
           (word(name.data() + n - 4, std::uint32_t{}) | kCase) == word(lower + n - 4, std::uint32_t{});
  }
}

// ASCII case-insensitive equality of two byte runs of length n.
inline bool iequal(const char* a, const char* b, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    if (a[i] != b[i] && lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

// What the framing and connection decisions need from the fields, gathered in one pass.
struct Facts {
  bool cl_seen = false, cl_bad = false, cl_have = false;
  std::uint64_t cl = 0;
  bool te_seen = false, te_last_chunked = false, te_chunked_early = false;
  bool te_not_token = false;  // a coding that is no token ("chunked:80", "a b"): a request cannot be read
  bool close = false, keep_alive = false;
  bool expect_seen = false, expect_continue = false;
  // A request's fields that must appear once, one bit each (kSingletonFields), and whether Host is valid.
  std::uint8_t singletons_seen = 0;
  bool singleton_repeated = false, host_bad = false;

  void singleton(std::size_t index) {
    const auto bit = static_cast<std::uint8_t>(1u << index);
    singleton_repeated |= (singletons_seen & bit) != 0;
    singletons_seen |= bit;
  }

  // RFC 9110 8.6: repeated fields or a list ("5, 5") are accepted when every value is the same number.
  void content_length(std::string_view v) {
    cl_seen = true;
    std::size_t i = 0;
    for (;;) {
      std::size_t j = v.find(',', i);
      if (j == std::string_view::npos) j = v.size();
      const std::string_view e = trim(v.substr(i, j - i));
      std::uint64_t n = 0;
      bool ok = !e.empty();
      for (char c : e) {
        const unsigned d = static_cast<unsigned char>(c) - '0';
        if (d > 9 || n > (UINT64_MAX - d) / 10) {
          ok = false;
          break;
        }
        n = n * 10 + d;
      }
      if (!ok || (cl_have && n != cl)) {
        cl_bad = true;
        return;
      }
      cl_have = true;
      cl = n;
      if (j == v.size()) return;
      i = j + 1;
    }
  }
  // Codings accumulate over repeated fields; only the order matters here.
  void transfer_encoding(std::string_view v) {
    te_seen = true;
    for_each_list_item(v, [&](std::string_view coding) {
      if (te_last_chunked) te_chunked_early = true;
      te_not_token |= std::any_of(coding.begin(), coding.end(), [](char c) { return !is(c, kTchar); });
      te_last_chunked = equals_lower(coding, "chunked");
    });
  }
  void connection(std::string_view v) {
    for_each_list_item(v, [&](std::string_view token) {
      if (equals_lower(token, "close")) close = true;
      if (equals_lower(token, "keep-alive")) keep_alive = true;
    });
  }
  bool persistent(unsigned version) const { return !close && (version >= 11 || keep_alive); }
};

// "HTTP/1.0" or "HTTP/1.1" at h[p], followed by `next`; p moves past it. Something else shaped like a version
// ("HTTP/" digits ["." digits], then `next`) is kBadVersion, anything else kBadStartLine. `h` ends in CRLF,
// so the scans stop in bounds.
Error parse_version(std::string_view h, std::size_t& p, unsigned& version, char next) {
  if (h.compare(p, 7, "HTTP/1.") == 0 && (h[p + 7] == '0' || h[p + 7] == '1') && h[p + 8] == next) {
    version = h[p + 7] == '1' ? 11 : 10;
    p += 8;
    return Error::kNone;
  }
  if (h.compare(p, 5, "HTTP/") != 0) return Error::kBadStartLine;
  auto digits = [&](std::size_t q) {
    std::size_t e = q;
    while (h[e] >= '0' && h[e] <= '9') ++e;
    return e;
  };
  std::size_t q = digits(p + 5);
  if (q == p + 5) return Error::kBadStartLine;
  if (h[q] == '.') {
    const std::size_t r = digits(q + 1);
    if (r == q + 1) return Error::kBadStartLine;
    q = r;
  }
  return h[q] == next ? Error::kBadVersion : Error::kBadStartLine;
}

// Finds the end of the head that starts at in[skip] (one past its blank line) within `max` bytes. A line ends
// in LF, with or without a CR before it; `bare` tells whether any line of the head ends in a bare LF.
// kNeedMore: not found yet, `scan_from` remembers how far the search got (start it at 0 for a new head);
// kHeadTooLarge: no blank line within `max` bytes. in[skip] must not be an LF.
Error find_head_end(std::string_view in, std::size_t skip, std::size_t& scan_from, std::size_t max,
                    std::size_t& end, bool& bare) {
  // A terminator must end within the first `max` bytes, so nothing past them is searched.
  const std::size_t window = std::min(in.size(), max);
  // Back off 2 bytes: an LF whose next bytes had not arrived is looked at again.
  const std::size_t from = std::max(skip, scan_from >= 2 ? scan_from - 2 : 0);
  // memchr for each LF, then a look around it: a head's lines are a few dozen bytes, and memchr's vector loop
  // costs fewer instructions per line than memmem's per byte. The byte before an LF is in bounds: a head
  // starts with a token character, never with an LF.
  const char* const base = in.data();
  const char* p = base + from;
  const char* const last = base + window - (window > 0 ? 1 : 0);  // an LF here has no next byte yet
  bool bare_seen = false;
  while (p < last) {
    const char* lf = static_cast<const char*>(std::memchr(p, '\n', static_cast<std::size_t>(last - p)));
    if (lf == nullptr) {
      break;
    }
    p = lf + 1;
    // Most lines end in CR LF and are followed by another field line, whose first byte is a token character.
    if (lf[-1] == '\r' && lf[1] > '\r') [[likely]] {
      continue;
    }
    bare_seen |= lf[-1] != '\r';
    if (lf[1] == '\n') {  // a bare LF as the blank line
      end = static_cast<std::size_t>(lf - base) + 2;
      bare = true;
      return Error::kNone;
    }
    if (lf[1] == '\r' && lf + 2 < base + window && lf[2] == '\n') {
      end = static_cast<std::size_t>(lf - base) + 3;
      // Lines looked at by earlier calls are looked at again for a bare LF (once per head).
      bare = bare_seen || (from > skip && head_has_bare_lf(base + skip, lf));
      return Error::kNone;
    }
    if (lf[1] == '\r' && lf + 2 == base + window) {
      break;  // the byte that tells a blank line from a bare CR has not arrived
    }
  }
  if (in.size() > max) return Error::kHeadTooLarge;
  scan_from = window;
  return Error::kNeedMore;
}

}  // namespace

struct HeadParser {
  using Span = Fields::Span;

  static Error request(std::string_view in, Request& out, std::size_t& used, std::size_t& scan_from,
                       const Limits& limits) {
    // RFC 9112 2.2: empty lines (CRLF or a bare LF) before a request line are ignored (they count against
    // the limit).
    std::size_t skip = 0;
    for (;;) {
      if (skip < in.size() && in[skip] == '\n') {
        skip += 1;
      } else if (in.size() - skip >= 2 && in[skip] == '\r' && in[skip + 1] == '\n') {
        skip += 2;
      } else {
        break;
      }
    }
    // Reject obvious garbage (a TLS hello, a bare CR) without waiting for a terminator that may never come.
    if (skip < in.size()) {
      const char c = in[skip];
      if (c == '\r' ? skip + 1 < in.size() : !is(c, kTchar)) return Error::kBadStartLine;
    }
    std::size_t end = 0;
    bool bare = false;
    if (Error e = find_head_end(in, skip, scan_from, limits.max_head_bytes, end, bare); e != Error::kNone) {
      return e;
    }
    if (bare) {
      assign_with_crlf(out.head_, in.data() + skip, end - skip);
    } else {
      out.head_.assign(in.data() + skip, end - skip);
    }
    if (out.head_.size() > UINT32_MAX) return Error::kHeadTooLarge;
    out.body_.clear();
    out.fields_.spans_.clear();
    out.method_at_ = out.method_len_ = out.target_at_ = out.target_len_ = 0;
    const std::string_view h = out.head_;

    // request-line = method SP request-target SP HTTP-version CRLF
    std::size_t p = 0;
    while (is(h[p], kTchar)) ++p;
    if (p == 0 || h[p] != ' ') return Error::kBadStartLine;
    const std::size_t target_at = ++p;
    p = skip_long_run<kTarget>(h, p);
    if (p == target_at || h[p] != ' ') return Error::kBadStartLine;
    const std::size_t target_len = p - target_at;
    ++p;
    unsigned version = 11;
    if (Error e = parse_version(h, p, version, '\r'); e != Error::kNone) return e;
    if (h[p + 1] != '\n') return Error::kBadStartLine;
    if (Error e = fields(h, p + 2, out.fields_.spans_); e != Error::kNone) return e;

    out.method_len_ = static_cast<std::uint32_t>(target_at - 1);
    out.target_at_ = static_cast<std::uint32_t>(target_at);
    out.target_len_ = static_cast<std::uint32_t>(target_len);
    out.method_ = bhttp::string_to_verb(beast::string_view(h.data(), out.method_len_));
    out.version_ = version;

    const Facts f = facts<true>(h, out.fields_.spans_);
    out.keep_alive_ = f.persistent(version);
    out.expect_continue_ = f.expect_continue;
    out.content_length_ = 0;
    out.framing_ = Framing::kNone;
    if (f.te_seen) {
      // RFC 9112 6.1/6.3: chunked must be the final coding (and only applied once), TE needs HTTP/1.1, and
      // TE with Content-Length is a smuggling attempt. Every coding must be a token (parameters included:
      // they have no use here, and a parser in front may read "chunked;x" or "chunked:1" differently).
      if (version < 11 || f.cl_seen || !f.te_last_chunked || f.te_chunked_early || f.te_not_token) {
        return Error::kBadTransferEncoding;
      }
      out.framing_ = Framing::kChunked;
    } else if (f.cl_seen) {
      if (f.cl_bad) return Error::kBadContentLength;
      out.framing_ = Framing::kLength;
      out.content_length_ = f.cl;
    }
    // RFC 9112 3.2, checked after the framing: a request whose body cannot be delimited fails as such.
    if (f.singleton_repeated) return Error::kRepeatedField;
    if (version >= 11 && (f.singletons_seen & (1u << kHostIndex)) == 0) return Error::kMissingHost;
    if (f.host_bad) return Error::kBadHost;
    used = end;
    scan_from = 0;
    return Error::kNone;
  }

  static Error response(std::string_view in, ResponseHead& out, std::size_t& used, std::size_t& scan_from,
                        const Limits& limits) {
    // Anything that does not start like "HTTP/" fails now rather than at the size limit.
    constexpr std::string_view kName = "HTTP/";
    const std::size_t have = std::min(in.size(), kName.size());
    if (in.compare(0, have, kName.substr(0, have)) != 0) return Error::kBadStartLine;
    std::size_t end = 0;
    bool bare = false;
    if (Error e = find_head_end(in, 0, scan_from, limits.max_head_bytes, end, bare); e != Error::kNone) {
      return e;
    }
    if (bare) {
      assign_with_crlf(out.head_, in.data(), end);
    } else {
      out.head_.assign(in.data(), end);
    }
    if (out.head_.size() > UINT32_MAX) return Error::kHeadTooLarge;
    out.fields_.spans_.clear();
    const std::string_view h = out.head_;

    // status-line = HTTP-version SP status-code SP [ reason-phrase ] CRLF (the SP may be absent too)
    std::size_t p = 0;
    unsigned version = 11;
    if (Error e = parse_version(h, p, version, ' '); e != Error::kNone) return e;
    ++p;
    auto digit = [&](std::size_t i) { return static_cast<unsigned>(static_cast<unsigned char>(h[i]) - '0'); };
    if (digit(p) - 1 > 8 || digit(p + 1) > 9 || digit(p + 2) > 9) return Error::kBadStartLine;
    const unsigned status = digit(p) * 100 + digit(p + 1) * 10 + digit(p + 2);
    p += 3;
    if (h[p] == ' ') {
      ++p;
      while (is(h[p], kValue)) ++p;
    }
    if (h[p] != '\r' || h[p + 1] != '\n') return Error::kBadStartLine;
    if (Error e = fields(h, p + 2, out.fields_.spans_); e != Error::kNone) return e;

    out.version_ = version;
    out.status_ = status;
    const Facts f = facts<false>(h, out.fields_.spans_);
    bool keep_alive = f.persistent(version);
    Framing framing = Framing::kNone;
    std::uint64_t length = 0;
    // RFC 9112 6.3, in order.
    if (status < 200 || status == 204 || status == 304) {
      framing = Framing::kNone;
    } else if (f.te_seen) {
      // TE overrides CL, but both (or TE in HTTP/1.0) means faulty framing: do not reuse the connection.
      if (f.cl_seen || version < 11) keep_alive = false;
      framing = f.te_last_chunked ? Framing::kChunked : Framing::kUntilClose;
    } else if (f.cl_seen) {
      if (f.cl_bad) return Error::kBadContentLength;
      framing = Framing::kLength;
      length = f.cl;
    } else {
      framing = Framing::kUntilClose;
    }
    if (framing == Framing::kUntilClose) keep_alive = false;
    out.framing_ = framing;
    out.content_length_ = length;
    out.keep_alive_ = keep_alive;
    used = end;
    scan_from = 0;
    return Error::kNone;
  }

  // Field lines from h[p] up to and including the blank line that ends `h`.
  static Error fields(std::string_view h, std::size_t p, std::vector<Span>& spans) {
    for (;;) {
      if (h[p] == '\r') return h[p + 1] == '\n' && p + 2 == h.size() ? Error::kNone : Error::kBadField;
      // field-name ":" OWS field-value OWS CRLF; a leading SP/HTAB (obs-fold) or a space before the colon
      // ends the name early and fails here.
      const std::size_t name_at = p;
      p = skip_run(h, p, kTchar);
      if (p == name_at || h[p] != ':') return Error::kBadField;
      const std::size_t name_len = p - name_at;
      ++p;
      while (ows(h[p])) ++p;
      const std::size_t value_at = p;
      p = skip_long_run<kValue>(h, p);
      if (h[p] != '\r' || h[p + 1] != '\n') return Error::kBadField;
      std::size_t value_end = p;
      while (value_end > value_at && ows(h[value_end - 1])) --value_end;
      spans.push_back({static_cast<std::uint32_t>(name_at), static_cast<std::uint32_t>(name_len),
                       static_cast<std::uint32_t>(value_at),
                       static_cast<std::uint32_t>(value_end - value_at)});
      p += 2;
    }
  }

  // Host = reg-name / IPv4 [":" port] read four bytes a step from the class table (the value is followed by
  // the line's CR LF); IP literals ("[...]") go to valid_host.
  static bool host_ok(std::string_view h, const Span& s) {
    const std::size_t end = s.value_at + s.value_len;
    if (s.value_len > 0 && h[s.value_at] == '[') {
      return valid_host(h.substr(s.value_at, s.value_len));
    }
    std::size_t p = skip_run(h, s.value_at, kHost);
    if (p < end && h[p] == ':') {
      p = skip_run(h, p + 1, kDigit);
    }
    return p == end;
  }

  // kRequest: also the request-only rules (Host, fields that must appear once).
  template <bool kRequest>
  static Facts facts(std::string_view h, const std::vector<Span>& spans) {
    Facts f;
    for (const Span& s : spans) {
      const std::string_view name(h.data() + s.name_at, s.name_len);
      const std::string_view value(h.data() + s.value_at, s.value_len);
      // Dispatch on the length first: most fields are none of these. Indexes are kSingletonFields'.
      switch (s.name_len) {
        case 4:
          if (kRequest && name_is(name, "host")) {
            f.singleton(kHostIndex);
            f.host_bad |= !host_ok(h, s);
          }
          break;
        case 6:
          if (!f.expect_seen && name_is(name, "expect")) {
            f.expect_seen = true;
            f.expect_continue = equals_lower(value, "100-continue");
          }
          break;
        case 10:
          if (name_is(name, "connection")) {
            f.connection(value);
          } else if (kRequest && name_is(name, "x-priority")) {
            f.singleton(3);
          }
          break;
        case 12:
          if (kRequest && name_is(name, "content-type")) f.singleton(2);
          break;
        case 13:
          if (kRequest && name_is(name, "authorization")) f.singleton(1);
          break;
        case 14:
          if (name_is(name, "content-length")) f.content_length(value);
          break;
        case 17:
          if (name_is(name, "transfer-encoding")) {
            f.transfer_encoding(value);
          } else if (kRequest && name_is(name, "x-request-timeout")) {
            f.singleton(4);
          }
          break;
        case 18:
          if (kRequest && name_is(name, "x-sluice-admin-key")) f.singleton(5);
          break;
        default:
          break;
      }
    }
    return f;
  }

  static void copy(Request& to, const Request& from) {
    to.content_length_ = from.content_length_;
    to.method_at_ = from.method_at_;
    to.method_len_ = from.method_len_;
    to.target_at_ = from.target_at_;
    to.target_len_ = from.target_len_;
    to.method_ = from.method_;
    to.version_ = from.version_;
    to.framing_ = from.framing_;
    to.keep_alive_ = from.keep_alive_;
    to.expect_continue_ = from.expect_continue_;
  }
  // Leaves a moved-from request empty, so its accessors never slice past its (emptied) head.
  static void clear(Request& r) {
    r.head_.clear();
    r.fields_.spans_.clear();
    r.body_.clear();
    copy(r, Request());
  }
};

const Fields::Span* Fields::find(std::string_view name) const {
  for (const Span& s : spans_) {
    if (s.name_len == name.size() && iequal(text_->data() + s.name_at, name.data(), name.size())) return &s;
  }
  return nullptr;
}

std::string_view Fields::get(std::string_view name) const {
  const Span* s = find(name);
  return s ? std::string_view{text_->data() + s->value_at, s->value_len} : std::string_view{};
}

bool Fields::contains(std::string_view name) const { return find(name) != nullptr; }

Field Fields::operator[](std::size_t i) const {
  const Span& s = spans_[i];
  return {{text_->data() + s.name_at, s.name_len}, {text_->data() + s.value_at, s.value_len}};
}

Request::Request(bhttp::verb method, std::string_view target, unsigned version) : Request() {
  const auto m = bhttp::to_string(method);
  head_.append(m.data(), m.size()).append(1, ' ').append(target);
  head_.append(version >= 11 ? " HTTP/1.1\r\n\r\n" : " HTTP/1.0\r\n\r\n");
  method_len_ = static_cast<std::uint32_t>(m.size());
  target_at_ = method_len_ + 1;
  target_len_ = static_cast<std::uint32_t>(target.size());
  method_ = method;
  version_ = version;
  keep_alive_ = version >= 11;
}

Request::Request(const Request& o) : head_(o.head_), body_(o.body_) {
  fields_.text_ = &head_;
  fields_.spans_ = o.fields_.spans_;
  HeadParser::copy(*this, o);
}

Request::Request(Request&& o) noexcept : head_(std::move(o.head_)), body_(std::move(o.body_)) {
  fields_.text_ = &head_;
  fields_.spans_ = std::move(o.fields_.spans_);
  HeadParser::copy(*this, o);
  HeadParser::clear(o);
}

Request& Request::operator=(const Request& o) {
  if (this != &o) {
    head_ = o.head_;
    body_ = o.body_;
    fields_.spans_ = o.fields_.spans_;
    HeadParser::copy(*this, o);
  }
  return *this;
}

Request& Request::operator=(Request&& o) noexcept {
  if (this != &o) {
    head_ = std::move(o.head_);
    body_ = std::move(o.body_);
    fields_.spans_ = std::move(o.fields_.spans_);
    HeadParser::copy(*this, o);
    HeadParser::clear(o);
  }
  return *this;
}

Error parse_request(std::string_view in, Request& out, std::size_t& used, std::size_t& scan_from,
                    const Limits& limits) {
  return HeadParser::request(in, out, used, scan_from, limits);
}

Error parse_response(std::string_view in, ResponseHead& out, std::size_t& used, std::size_t& scan_from,
                     const Limits& limits) {
  return HeadParser::response(in, out, used, scan_from, limits);
}

}  // namespace sluice::http::h1
