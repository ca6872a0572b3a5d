#pragma once
// Tokens a request will cost, estimated before the call with DeepSeek's published rule of thumb (~0.3 token per
// ASCII character, ~0.6 per other, e.g. CJK, character) plus the completion budget (max_tokens). Reconciled
// with the provider's usage once the answer is in.
#include <cstdint>
#include <optional>
#include <string>

namespace sluice::admission {

// Tenths of a token for `text` (exact integer arithmetic: 3 per ASCII byte, 6 per non-ASCII code point).
std::uint64_t token_tenths(std::string_view text);

// Prompt tokens of a chat/completions/embeddings body: "role:content" of each message (text parts of
// multi-part content), or "prompt", or "input" (strings or lists of strings). Unknown shapes count 0.
std::uint64_t estimate_prompt_tokens(const std::string& body);

// Prompt estimate + (max_tokens, or `default_max_tokens` when the request does not set it).
std::uint64_t estimate_request_tokens(const std::string& body, std::optional<std::int64_t> max_tokens,
                                      std::uint32_t default_max_tokens);

}  // namespace sluice::admission
