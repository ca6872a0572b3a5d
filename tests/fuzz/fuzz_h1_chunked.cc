// The chunked decoder alone: the body it decodes does not depend on how the input is split or on the size of
// the output buffer, and an error at one split is the same error at any split.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "http/h1.h"

using sluice::fuzz::check;
using namespace sluice::http::h1;

namespace {

struct Outcome {
  std::string body;
  Error error = Error::kNone;
  bool done = false;
  std::size_t used = 0;
};

// Feeds `in` in pieces (cut sizes from `cuts`, or whole when `whole`), through an output buffer of `out_size`.
Outcome decode(std::string_view in, std::size_t out_size, sluice::fuzz::Cuts* cuts) {
  BodyDecoder d;
  d.reset(Framing::kChunked, 0, 1 << 16);
  Outcome o;
  std::vector<char> out(out_size);
  std::string pending;
  std::size_t fed = 0;
  while (true) {
    if (fed < in.size()) {
      const std::size_t n = cuts ? cuts->next(in.size() - fed) : in.size() - fed;
      pending.append(in.substr(fed, n));
      fed += n;
    }
    bool progress = false;
    for (;;) {
      const auto s = d.decode(pending, out);
      check(s.used <= pending.size() && s.produced <= out.size(), "decoder within its buffers");
      o.body.append(out.data(), s.produced);
      pending.erase(0, s.used);
      o.used += s.used;
      if (s.error != Error::kNone) {
        o.error = s.error;
        return o;
      }
      if (s.used == 0 && s.produced == 0) break;
      progress = true;
    }
    if (d.done() || (fed == in.size() && !progress)) break;
  }
  o.done = d.done();
  check(o.body.size() == d.decoded(), "decoded() counts the body");
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  const Outcome whole = decode(in, 4096, nullptr);
  sluice::fuzz::Cuts cuts{data[0] * 2654435761u + 1};
  const Outcome split = decode(in, 1 + data[0] % 13, &cuts);
  check(whole.error == split.error, "the same error at any split");
  check(whole.done == split.done, "done at any split");
  if (whole.error == Error::kNone) {
    check(whole.body == split.body, "the same body at any split");
  }
  if (whole.done) {
    check(whole.used == split.used, "the body ends at the same byte");
  }
  return 0;
}
