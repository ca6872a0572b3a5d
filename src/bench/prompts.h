#pragma once
// Prompts for the benchmark: a seeded built-in generator (pseudo-words of a given token size) or a JSONL
// file, and the chat-completion request body built from one.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::bench {

struct Prompt {
  std::string messages_json;           // the "messages" array, serialized
  std::optional<unsigned> max_tokens;  // per-prompt override
};

// `count` distinct user prompts of about `tokens` tokens each (DeepSeek's estimate: 0.3 token per ASCII
// character), deterministic for a seed. Distinct prompts keep a prefix cache from flattering the numbers.
std::vector<Prompt> generate_prompts(unsigned tokens, unsigned count, std::uint64_t seed);

// One JSON object per line: {"messages":[...]} or {"prompt":"text"}, optional "max_tokens"; blank lines and
// lines starting with '#' are skipped. Returns an error naming file:line, or empty.
std::string parse_prompts_jsonl(std::string_view text, std::string_view file_name, std::vector<Prompt>& out);
std::string load_prompts_file(const std::string& path, std::vector<Prompt>& out);

struct BodyOptions {
  std::string model;
  bool stream = false;
  bool include_usage = true;
  unsigned max_tokens = 64;
};

// {"model":...,"messages":...,"max_tokens":N,"stream":...[, "stream_options":{"include_usage":true}]}
std::string build_body(const BodyOptions& o, const Prompt& p);

}  // namespace sluice::bench
