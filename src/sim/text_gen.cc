#include "sim/text_gen.h"

#include <array>

namespace sluice::sim {

namespace {
constexpr std::array<std::string_view, 64> kSimWords = {
    "the",      "server",  "is",       "busy",     "please",  "retry",     "later",    "queue",
    "token",    "stream",  "model",    "answer",   "cache",   "prefix",    "latency",  "slot",
    "gateway",  "request", "response", "upstream", "fleet",   "node",      "reason",   "think",
    "deep",     "seek",    "chat",     "keep",     "alive",   "wait",      "load",     "balance",
    "river",    "sluice",  "gate",     "water",    "flow",    "pressure",  "valve",    "channel",
    "quick",    "steady",  "calm",     "brave",    "bright",  "careful",   "simple",   "honest",
    "and",      "of",      "to",       "in",       "with",    "for",       "on",       "by",
    "we",       "it",      "this",     "that",     "every",   "some",      "many",     "few"};
}  // namespace

uint64_t estimate_token_tenths(std::string_view text) {
  uint64_t tenths = 0;
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

uint64_t estimate_tokens(std::string_view text) { return (estimate_token_tenths(text) + 9) / 10; }

void TextGen::append_token(std::string& out) {
  uint64_t r = rng_.next();
  std::string_view w = kSimWords[r & 63];
  if (emitted_ > 0) {
    out.push_back(' ');
  }
  bool capital = emitted_ == 0 || since_period_ == 0;
  out += w;
  if (capital) {
    char& first = out[out.size() - w.size()];
    first = static_cast<char>(first - 'a' + 'A');
  }
  ++emitted_;
  ++since_period_;
  // End a sentence every 6..17 words.
  if (since_period_ >= 6 + ((r >> 8) % 12)) {
    out.push_back('.');
    since_period_ = 0;
  }
}

std::string TextGen::generate(uint64_t tokens) {
  std::string out;
  out.reserve(tokens * 8);
  for (uint64_t i = 0; i < tokens; ++i) {
    append_token(out);
  }
  return out;
}

}  // namespace sluice::sim
