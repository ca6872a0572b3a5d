#pragma once
// Token usage as reported by OpenAI-compatible providers (DeepSeek adds cache hit/miss counts).
#include <cstdint>
#include <optional>
#include <string_view>

namespace sluice::openai {

struct Usage {
  std::int64_t prompt_tokens = 0;
  std::int64_t completion_tokens = 0;
  std::int64_t total_tokens = 0;
  std::int64_t prompt_cache_hit_tokens = 0;
  std::int64_t prompt_cache_miss_tokens = 0;  // prompt - hit when the provider does not report it
  std::int64_t reasoning_tokens = 0;
};

// What a stream relay needs from one event's JSON, from a single parse.
struct ChunkInfo {
  bool valid = false;          // a complete, valid JSON document
  std::optional<Usage> usage;  // its "usage" object, when it has one
  bool usage_only = false;     // usage with "choices": [] (the include_usage chunk)
};
ChunkInfo inspect_chunk(std::string_view json);

// Reads "usage" from a chat/completion JSON object or stream chunk. nullopt when absent, null or malformed.
std::optional<Usage> extract_usage(std::string_view json);

// True when `json` (with any surrounding whitespace) is a complete, valid JSON document.
bool is_valid_json(std::string_view json);

// What one parse of a buffered upstream answer tells: whether it is JSON, its usage, whether it is an error
// object sent with status 200 (no "choices" or "data"), and whether the provider cut it short
// (finish_reason insufficient_system_resource). Pads `body` in place (no copy when it has spare capacity).
struct ResponseFacts {
  bool valid = false;
  bool error_object = false;
  bool cut_short = false;
  std::optional<Usage> usage;
};
ResponseFacts inspect_response(std::string& body);

}  // namespace sluice::openai
