// The HTTP/1.1 response head parser, as the upstream connection drives it: interim 1xx heads, then the final
// head and its body through the decoder.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "http/h1.h"

using sluice::fuzz::check;
using namespace sluice::http::h1;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  ResponseHead head;
  for (int heads = 0; heads < 8; ++heads) {
    std::size_t used = 0, scan_from = 0;
    if (parse_response(in, head, used, scan_from, Limits{4096}) != Error::kNone) {
      return 0;
    }
    check(used > 0 && used <= in.size(), "used within the input");
    check(head.status() >= 100 && head.status() <= 999, "a three-digit status");
    // Fed again in two pieces: the same head.
    ResponseHead again;
    std::size_t used2 = 0, scan2 = 0;
    const std::size_t cut = used / 2;
    const Error first = parse_response(in.substr(0, cut), again, used2, scan2, Limits{4096});
    check(first == Error::kNeedMore, "a prefix of a head is incomplete");
    check(parse_response(in, again, used2, scan2, Limits{4096}) == Error::kNone && used2 == used &&
              again.status() == head.status() && again.framing() == head.framing() &&
              again.content_length() == head.content_length() && again.keep_alive() == head.keep_alive(),
          "pieces parse like the whole");
    in.remove_prefix(used);
    if (head.status() >= 200 || head.status() == 101) {
      break;
    }
  }
  if (head.framing() == Framing::kUntilClose) {
    check(!head.keep_alive(), "a close-delimited body ends the connection");
  }
  BodyDecoder body;
  body.reset(head.framing(), head.content_length(), 2048);
  char buf[97];
  while (!in.empty() && !body.done() && body.error() == Error::kNone) {
    const auto s = body.decode(in, buf);
    check(s.used <= in.size() && s.produced <= sizeof buf, "decoder within its buffers");
    if (s.used == 0 && s.produced == 0) break;
    in.remove_prefix(s.used);
  }
  check(body.decoded() <= 2048, "decoded within the limit");
  (void)body.finish();
  return 0;
}
