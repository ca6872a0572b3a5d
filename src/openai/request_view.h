#pragma once
// The few request fields the gateway needs, read without building a DOM of its own types.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sluice::openai {

struct RequestView {
  std::string model;
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage
  std::optional<std::int64_t> max_tokens;
  bool zero_temperature = false;  // "temperature" is the number 0: the request is deterministic (cacheable)
};

// The endpoint a body was sent to: which members it requires and how they are checked.
enum class Api : std::uint8_t { kChatCompletions, kCompletions, kEmbeddings };

struct RequestError {
  std::string message;
  std::string param;  // offending field, may be empty
  std::string code;   // OpenAI-style code, e.g. "invalid_json", "missing_required_parameter"
};

// Validates the whole body as JSON (an object) and as a request to `api` (required members, types and
// ranges of the members that API defines; openai/validate.h), and extracts the view. `body` should have
// capacity() >= size() + 64 to avoid a copy.
std::optional<RequestError> parse_request_view(const std::string& body, Api api, RequestView& out);

// Replaces the top-level "model" value with `model`; the rest of the body is untouched byte for byte.
// Returns false if the body has no top-level string "model" (parse_request_view would have rejected it).
bool rewrite_model(std::string& body, std::string_view model);

}  // namespace sluice::openai
