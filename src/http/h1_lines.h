#pragma once
// Line ends of HTTP/1.1 heads, for the head parsers in h1.cc.
#include <cstddef>
#include <string>
#include <string_view>

#include "http/h1.h"

namespace sluice::http::h1 {

// Finds the end of the head that starts at in[skip] (one past its blank line) within `max` bytes. A line ends
// in LF, with or without a CR before it; `bare` tells whether any line of the head ends in a bare LF.
// kNeedMore: not found yet, `scan_from` remembers how far the search got (start it at 0 for a new head);
// kHeadTooLarge: no blank line within `max` bytes. in[skip] must not be an LF.
Error find_head_end(std::string_view in, std::size_t skip, std::size_t& scan_from, std::size_t max,
                    std::size_t& end, bool& bare);

// `out` = the head in[0, n) with every bare LF line end made CRLF, so a parser sees one kind of line end.
void assign_with_crlf(std::string& out, const char* in, std::size_t n);

}  // namespace sluice::http::h1
