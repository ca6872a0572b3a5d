#pragma once
// Conversion of a complete chat answer between its two shapes, so a cache entry filled by a stream can answer
// a non-stream request and the reverse.
#include <optional>
#include <string>
#include <string_view>

#include "cache/response_cache.h"

namespace sluice::cache {

// From a non-stream chat.completion body. nullopt when it is not one (no choices, not an object).
std::optional<CachedAnswer> answer_from_json(std::string_view body);

// From the SSE events of a complete stream ("data: {...}\n\n" ..., [DONE] optional). nullopt when an event is
// not a chunk object or carries an error.
std::optional<CachedAnswer> answer_from_sse(std::string_view sse);

inline constexpr std::string_view kSseDone = "data: [DONE]\n\n";

}  // namespace sluice::cache
