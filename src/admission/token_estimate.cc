#include "admission/token_estimate.h"

#include <simdjson.h>

namespace sluice::admission {

namespace {
simdjson::dom::parser& parser() {
  thread_local simdjson::dom::parser p;
  return p;
}

// A string, or a list of strings / {"type":"text","text":...} parts.
std::uint64_t text_tenths(simdjson::dom::element e) {
  std::string_view s;
  if (!e.get(s)) {
    return token_tenths(s);
  }
  std::uint64_t sum = 0;
  simdjson::dom::array arr;
  if (!e.get(arr)) {
    for (auto item : arr) {
      if (!item.get(s)) {
        sum += token_tenths(s);
      } else if (simdjson::dom::element t; !item["text"].get(t) && !t.get(s)) {
        sum += token_tenths(s);
      }
    }
  }
  return sum;
}
}  // namespace

std::uint64_t token_tenths(std::string_view text) {
  std::uint64_t tenths = 0;
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x80) {
      tenths += 3;
    } else if ((u & 0xC0) != 0x80) {
      tenths += 6;  // a UTF-8 lead byte starts one non-ASCII character
    }
  }
  return tenths;
}

std::uint64_t estimate_prompt_tokens(const std::string& body) {
  simdjson::dom::element root;
  const bool padded = body.capacity() >= body.size() + simdjson::SIMDJSON_PADDING;
  if (parser().parse(body.data(), body.size(), !padded).get(root)) {
    return 0;
  }
  std::uint64_t tenths = 0;
  if (simdjson::dom::array msgs; !root["messages"].get(msgs)) {
    for (auto m : msgs) {
      std::string_view role;
      if (!m["role"].get(role)) {
        tenths += token_tenths(role) + 3;  // the ':' between role and content
      }
      if (simdjson::dom::element c; !m["content"].get(c)) {
        tenths += text_tenths(c);
      }
    }
  } else if (simdjson::dom::element p; !root["prompt"].get(p)) {
    tenths += text_tenths(p);
  } else if (simdjson::dom::element in; !root["input"].get(in)) {
    tenths += text_tenths(in);
  }
  return (tenths + 9) / 10;
}

std::uint64_t estimate_request_tokens(const std::string& body, std::optional<std::int64_t> max_tokens,
                                      std::uint32_t default_max_tokens) {
  const std::uint64_t completion = max_tokens ? static_cast<std::uint64_t>(*max_tokens) : default_max_tokens;
  return estimate_prompt_tokens(body) + completion;
}

}  // namespace sluice::admission
