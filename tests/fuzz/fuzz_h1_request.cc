// The HTTP/1.1 request head parser and its body decoder, as the session drives them: whatever the bytes,
// parsing never reads out of bounds, a head parsed whole parses the same when it arrives in pieces, and the
// body decoder never produces more than it may.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "http/h1.h"

namespace {

using sluice::fuzz::check;
using namespace sluice::http::h1;

std::string describe_request(const Request& r) {
  std::string s = std::string(r.method_string()) + ' ' + std::string(r.target()) + ' ' +
                  std::to_string(r.version()) + ' ' + std::to_string(static_cast<int>(r.framing())) + ' ' +
                  std::to_string(r.content_length()) + ' ' + std::to_string(r.keep_alive());
  for (Field f : r) s.append("|").append(f.name).append("=").append(f.value);
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const Limits limits{4096};
  Request whole;
  std::size_t used = 0, scan_from = 0;
  const Error e = parse_request(in, whole, used, scan_from, limits);
  if (e == Error::kRepeatedField) {
    check(!repeated_field(whole).empty(), "kRepeatedField names the field");
  }
  if (e != Error::kNone) {
    return 0;
  }
  check(used <= in.size() && used > 0, "used within the input");
  check(!whole.method_string().empty() && !whole.target().empty(), "method and target");
  check(whole.version() == 10 || whole.version() == 11, "version");
  for (Field f : whole) {
    check(whole[f.name].data() != nullptr, "every field can be looked up");
  }

  // The same bytes in pieces, as reads would bring them.
  sluice::fuzz::Cuts cuts{static_cast<unsigned>(size * 2654435761u)};
  Request pieces;
  std::size_t have = 0, used2 = 0, scan2 = 0;
  Error e2 = Error::kNeedMore;
  while (e2 == Error::kNeedMore && have < in.size()) {
    have += cuts.next(in.size() - have);
    e2 = parse_request(in.substr(0, have), pieces, used2, scan2, limits);
  }
  check(e2 == Error::kNone && used2 == used, "pieces parse like the whole");
  check(describe_request(pieces) == describe_request(whole), "pieces give the same request");

  // The body that follows, through the decoder, bounded like the session bounds it.
  BodyDecoder body;
  constexpr std::uint64_t kLimit = 1024;
  body.reset(whole.framing(), whole.content_length(), kLimit);
  std::string out;
  std::string_view rest = in.substr(used);
  for (int step = 0; step < 64 && !rest.empty() && !body.done() && body.error() == Error::kNone; ++step) {
    const auto s = body.decode_append(rest.substr(0, cuts.next(rest.size())), out);
    check(s.used <= rest.size(), "decoder uses what it was given");
    rest.remove_prefix(s.used);
    if (s.used == 0 && s.produced == 0) break;
  }
  check(out.size() <= kLimit && body.decoded() == out.size(), "decoded within the limit");
  if (whole.framing() == Framing::kLength && body.done()) {
    check(out.size() == whole.content_length(), "a sized body has its length");
  }
  (void)body.finish();
  return 0;
}
