#include "openai/usage.h"

#include <simdjson.h>

#include <algorithm>
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

// One pass over the usage object (a lookup per field would rescan it for each): the first occurrence of a
// key counts, as with at_key; a missing or non-integer count is 0.
static Usage usage_from(simdjson::dom::object u) {
  Usage out;
  bool have_miss = false;
  unsigned seen = 0;
  auto take = [&seen](unsigned bit, simdjson::dom::element v, std::int64_t& into) {
    if (seen & bit) {
      return false;
    }
    seen |= bit;
    return !v.get(into);
  };
  for (auto field : u) {
    const std::string_view k = field.key;
    std::int64_t n;
    // By length first (the names' lengths differ): each comparison is then one of a known size, inlined.
    switch (k.size()) {
      case 13:
        if (k == "prompt_tokens") out.prompt_tokens = take(1, field.value, n) ? n : out.prompt_tokens;
        break;
      case 17:
        if (k == "completion_tokens")
          out.completion_tokens = take(2, field.value, n) ? n : out.completion_tokens;
        break;
      case 12:
        if (k == "total_tokens") out.total_tokens = take(4, field.value, n) ? n : out.total_tokens;
        break;
      case 23:
        if (k == "prompt_cache_hit_tokens") {
          out.prompt_cache_hit_tokens = take(8, field.value, n) ? n : out.prompt_cache_hit_tokens;
        }
        break;
      case 24:
        if (k == "prompt_cache_miss_tokens" && take(16, field.value, n)) {
          out.prompt_cache_miss_tokens = n;
          have_miss = true;
        }
        break;
      case 25:
        if (k == "completion_tokens_details" && !(seen & 32)) {
          seen |= 32;
          if (simdjson::dom::element d = field.value; d.is_object()) {
            out.reasoning_tokens = int_or_zero(d, "reasoning_tokens");
          }
        }
        break;
      default:
        break;
    }
  }
  if (!have_miss) {
    // Clamped first: a provider's counts are not trusted to be sane (INT64_MIN minus a hit count overflows).
    const std::int64_t prompt = std::max<std::int64_t>(0, out.prompt_tokens);
    const std::int64_t hit = std::max<std::int64_t>(0, out.prompt_cache_hit_tokens);
    out.prompt_cache_miss_tokens = prompt > hit ? prompt - hit : 0;
  }
  return out;
}

static std::optional<Usage> usage_of(simdjson::dom::element root) {
  simdjson::dom::object u;
  if (root.at_key("usage").get(u)) {
    return std::nullopt;  // absent, null or not an object
  }
  return usage_from(u);
}

// Whether any choice says the provider cut the answer short.
static bool cut_short(simdjson::dom::element choices) {
  simdjson::dom::array arr;
  if (choices.get(arr)) {
    return false;
  }
  for (simdjson::dom::element c : arr) {
    std::string_view reason;
    if (!c.at_key("finish_reason").get(reason) && reason == "insufficient_system_resource") {
      return true;
    }
  }
  return false;
}

std::optional<Usage> extract_usage(std::string_view json) {
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(padded(json)).get(root)) {
    return std::nullopt;
  }
  return usage_of(root);
}

ResponseFacts inspect_response(std::string& body) {
  thread_local simdjson::dom::parser parser;
  if (body.capacity() < body.size() + simdjson::SIMDJSON_PADDING) {
    body.reserve(body.size() + simdjson::SIMDJSON_PADDING);
  }
  ResponseFacts facts;
  simdjson::dom::element root;
  if (parser.parse(body.data(), body.size(), false).get(root)) {
    return facts;
  }
  facts.valid = true;
  simdjson::dom::object o;
  if (root.get(o)) {
    return facts;
  }
  bool answer = false;  // "choices" (chat, completions) or "data" (embeddings)
  bool error = false;
  bool usage_seen = false;  // a first "usage" that is no object hides a later one, as with at_key
  for (auto field : o) {  // one pass: the first occurrence of a key counts, as with at_key
    const std::string_view k = field.key;
    if (k == "usage" && !usage_seen) {
      usage_seen = true;
      if (simdjson::dom::object u; !field.value.get(u)) {
        facts.usage = usage_from(u);
      }
    } else if (k == "choices" && !answer) {
      answer = true;
      facts.cut_short = cut_short(field.value);
    } else if (k == "data") {
      answer = true;
    } else if (k == "error") {
      error = !field.value.is_null();
    }
  }
  facts.error_object = error && !answer;
  return facts;
}

ChunkInfo inspect_chunk(std::string_view json) {
  thread_local simdjson::dom::parser parser;
  ChunkInfo info;
  simdjson::dom::element root;
  if (parser.parse(padded(json)).get(root)) {
    return info;
  }
  info.valid = true;
  if (root.is_object()) {
    info.usage = usage_of(root);
    simdjson::dom::array choices;
    info.usage_only = info.usage && !root.at_key("choices").get(choices) && choices.size() == 0;
  }
  return info;
}

bool is_valid_json(std::string_view json) {
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element root;
  return !parser.parse(padded(json)).get(root);
}

}  // namespace sluice::openai
