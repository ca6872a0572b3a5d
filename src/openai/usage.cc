#include "openai/usage.h"

#include <simdjson.h>

#include <string>
#include <algorithm>
#include <cstring>

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
  // memmem beats string_view::find here: the latter scans for '"', the most common byte in JSON.
  const void* hit = ::memmem(json.data(), json.size(), "\"usage\"", 7);
  if (!hit) {
    return false;
  }
  auto pos = static_cast<std::size_t>(static_cast<const char*>(hit) - json.data());
  auto rest = json.substr(pos + 7);
  auto v = rest.find_first_not_of(" \t\r\n:");
  return v != std::string_view::npos && rest[v] == '{';
}

static std::optional<Usage> usage_of(simdjson::dom::element root) {
  simdjson::dom::element u;
  if (root.at_key("usage").get(u) || !u.is_object()) {
    return std::nullopt;
  }
  Usage out;
  out.prompt_tokens = int_or_zero(u, "prompt_tokens");
  out.completion_tokens = int_or_zero(u, "completion_tokens");
  out.total_tokens = int_or_zero(u, "total_tokens");
  out.prompt_cache_hit_tokens = int_or_zero(u, "prompt_cache_hit_tokens");
  if (u.at_key("prompt_cache_miss_tokens").get(out.prompt_cache_miss_tokens)) {
    out.prompt_cache_miss_tokens = std::max<std::int64_t>(0, out.prompt_tokens - out.prompt_cache_hit_tokens);
  }
  if (simdjson::dom::element d; !u.at_key("completion_tokens_details").get(d) && d.is_object()) {
    out.reasoning_tokens = int_or_zero(d, "reasoning_tokens");
  }
  return out;
}

std::optional<Usage> extract_usage(std::string_view json) {
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(padded(json)).get(root)) {
    return std::nullopt;
  }
  return usage_of(root);
}

bool validate_response(std::string& body, std::optional<Usage>& usage) {
  thread_local simdjson::dom::parser parser;
  if (body.capacity() < body.size() + simdjson::SIMDJSON_PADDING) {
    body.reserve(body.size() + simdjson::SIMDJSON_PADDING);
  }
  simdjson::dom::element root;
  if (parser.parse(body.data(), body.size(), false).get(root)) {
    return false;
  }
  usage = usage_of(root);
  return true;
}

bool is_usage_only_chunk(std::string_view json) {
  return ::memmem(json.data(), json.size(), "\"choices\":[]", 12) != nullptr;
}

bool is_valid_json(std::string_view json) {
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element root;
  return !parser.parse(padded(json)).get(root);
}

}  // namespace sluice::openai
