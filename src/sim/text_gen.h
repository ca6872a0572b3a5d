#pragma once
// Deterministic pseudo-text (one word = one token) and DeepSeek's documented token estimate for prompts.
#include <cstdint>
#include <string>
#include <string_view>

#include "sim/distributions.h"

namespace sluice::sim {

// DeepSeek's rule of thumb: ~0.3 token per ASCII character, ~0.6 per other (CJK) character.
// Counted in tenths to stay exact; rounds up; an empty text is 0 tokens.
uint64_t estimate_tokens(std::string_view text);
// Same rule, in tenths of a token, for callers that accumulate over several pieces.
uint64_t estimate_token_tenths(std::string_view text);

// Produces tokens one at a time into a caller-owned buffer, so streaming allocates nothing per token.
class TextGen {
 public:
  explicit TextGen(uint64_t seed) : rng_(seed) {}
  // Appends the next token's text (a word with its leading space, sometimes ending a sentence).
  void append_token(std::string& out);
  // Convenience for whole responses.
  std::string generate(uint64_t tokens);
  uint64_t emitted() const { return emitted_; }

 private:
  Rng rng_;
  uint64_t emitted_ = 0;
  uint64_t since_period_ = 0;
};

}  // namespace sluice::sim
