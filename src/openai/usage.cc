#include "openai/usage.h"

#include <simdjson.h>

#include <string>

namespace sluice::openai {

namespace {
// simdjson reads up to SIMDJSON_PADDING bytes past the end; copy into a reused padded buffer.
simdjson::padded_string_view padded(std::string_view json) {
  thread_local std::string buf;
  buf.reserve(json.size() + simdjson::SIMDJSON_PADDING);
  buf.assign(json);
  return simdjson::padded_string_view(buf.data(), buf.size(), buf.capacity());
}

std::int64_t int_or_zero(simdjson::dom::element e, std::string_view key) {
  std::int64_t v = 0;
  if (e.at_key(key).get(v)) {
    return 0;
  }
  return v;
}
}  // namespace

bool may_carry_usage(std::string_view json) {
  auto pos = json.find("\"usage\"");
  if (pos == std::string_view::npos) {
    return false;
  }
  auto rest = json.substr(pos + 7);
  auto v = rest.find_first_not_of(" \t\r\n:");
  return v != std::string_view::npos && rest[v] == '{';
}

std::optional<Usage> extract_usage(std::string_view json) {
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(padded(json)).get(root)) {
    return std::nullopt;
  }
  simdjson::dom::element u;
  if (root.at_key("usage").get(u) || !u.is_object()) {
    return std::nullopt;
  }
  Usage out;
  out.prompt_tokens = int_or_zero(u, "prompt_tokens");
  out.completion_tokens = int_or_zero(u, "completion_tokens");
  out.total_tokens = int_or_zero(u, "total_tokens");
  out.prompt_cache_hit_tokens = int_or_zero(u, "prompt_cache_hit_tokens");
  if (simdjson::dom::element d; !u.at_key("completion_tokens_details").get(d) && d.is_object()) {
    out.reasoning_tokens = int_or_zero(d, "reasoning_tokens");
  }
  return out;
}

bool is_valid_json(std::string_view json) {
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element root;
  return !parser.parse(padded(json)).get(root);
}

}  // namespace sluice::openai
