// Line ends of HTTP/1.1 heads: where a head ends, and making bare LF line ends CRLF (RFC 9112 2.2).
#include "http/h1_lines.h"

#include <algorithm>
#include <cstring>

namespace sluice::http::h1 {

namespace {
// Whether an LF in [from, to) lacks the CR before it (an LF at `from` itself counts as bare).
bool head_has_bare_lf(const char* from, const char* to) {
  for (const char* q = from; q < to; ++q) {
    q = static_cast<const char*>(std::memchr(q, '\n', static_cast<std::size_t>(to - q)));
    if (q == nullptr) {
      return false;
    }
    if (q == from || q[-1] != '\r') {
      return true;
    }
  }
  return false;
}
}  // namespace

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
    bare_seen |= lf[-1] != '\r';
    if (lf[1] == '\n' || (lf[1] == '\r' && lf + 2 < base + window && lf[2] == '\n')) {
      end = static_cast<std::size_t>(lf - base) + (lf[1] == '\n' ? 2 : 3);
      bare_seen |= lf[1] == '\n';
      // Lines looked at by earlier calls are looked at again for a bare LF (once per head).
      bare = bare_seen || (from > skip && head_has_bare_lf(base + skip, lf));
      return Error::kNone;
    }
    if (lf[1] == '\r' && lf + 2 == base + window) {
      break;  // the byte that tells a blank line from a bare CR has not arrived
    }
    p = lf + 1;
  }
  if (in.size() > max) return Error::kHeadTooLarge;
  scan_from = window;
  return Error::kNeedMore;
}

void assign_with_crlf(std::string& out, const char* in, std::size_t n) {
  out.clear();
  out.reserve(n + n / 8 + 2);
  const char* const end = in + n;
  while (in < end) {
    const char* lf = static_cast<const char*>(std::memchr(in, '\n', static_cast<std::size_t>(end - in)));
    if (lf == nullptr) {
      out.append(in, end);
      return;
    }
    out.append(in, lf);
    if (out.empty() || out.back() != '\r') {
      out.push_back('\r');
    }
    out.push_back('\n');
    in = lf + 1;
  }
}

}  // namespace sluice::http::h1
