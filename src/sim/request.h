#pragma once
// What the sim needs from an OpenAI-style request body, read with simdjson on demand (no DOM).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <simdjson.h>

namespace sluice::sim {

enum class Endpoint { kChat, kCompletions, kEmbeddings };

struct ApiRequest {
  std::string model;
  bool stream = false;
  bool include_usage = false;
  std::optional<uint64_t> max_tokens;
  uint64_t prompt_tokens = 0;        // DeepSeek's 0.3/0.6 per character estimate
  std::vector<uint64_t> prefix_blocks;  // hashes at each 64-token boundary (context cache)
  uint64_t content_hash = 0;         // seeds the pseudo-text, so the same prompt gives the same answer
  std::vector<uint64_t> inputs;      // embeddings: one hash per input
  bool base64 = false;               // embeddings: encoding_format base64
  std::string assistant_prefix;      // chat prefix completion: the answer continues this text
};

struct ApiParse {
  ApiRequest req;
  std::string error;  // empty on success; a message for a 400 invalid_request_error
};

// `body` must have simdjson's padding available in its capacity (the HTTP session reserves it);
// otherwise it is copied.
ApiParse parse_api_request(simdjson::ondemand::parser& parser, const std::string& body, Endpoint ep);

}  // namespace sluice::sim
