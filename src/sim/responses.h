#pragma once
// DeepSeek-shaped response bodies and SSE chunks. Stream chunks are formatted into one reused buffer
// per request: the fixed chunk prefix is built once, each token only appends its text.
#include <cstdint>
#include <string>
#include <string_view>

#include "sim/request.h"

namespace sluice::sim {

struct Usage {
  uint64_t prompt = 0;
  uint64_t completion = 0;
  uint64_t cache_hit = 0;
  uint64_t reasoning = 0;
  bool reasoner = false;
};

inline constexpr std::string_view kFingerprint = "fp_8802369eaa_prod0623_fp8_kvcache";

// A DeepSeek-style id (UUID shaped), deterministic from the seed and request number.
std::string make_completion_id(uint64_t seed, uint64_t seq);
void append_usage(std::string& out, const Usage& u);

struct BodyParts {
  std::string_view id;
  int64_t created = 0;
  std::string_view model;
  std::string_view content;
  std::string_view reasoning;  // non-empty only for the reasoner
  std::string_view finish_reason;
  Usage usage;
};

std::string chat_completion_body(const BodyParts& p);
std::string text_completion_body(const BodyParts& p);
std::string embeddings_body(std::string_view model, const ApiRequest& req, uint64_t seed);

class ChunkWriter {
 public:
  ChunkWriter(Endpoint ep, std::string_view id, int64_t created, std::string_view model);
  // Each returns a view of the reused buffer, valid until the next call.
  std::string_view role_chunk();
  std::string_view token_chunk(std::string_view text, bool reasoning);
  std::string_view finish_chunk(std::string_view finish_reason, const Usage* usage);
  std::string_view usage_chunk(const Usage& usage);
  // A chunk cut in the middle of its JSON, then the SSE terminator: what a broken proxy or upstream emits.
  std::string_view malformed_chunk();
  static std::string_view done() { return "data: [DONE]\n\n"; }
  static std::string_view keepalive() { return ": keep-alive\n\n"; }

 private:
  Endpoint ep_;
  std::string prefix_;  // data: {"id":...,"choices":[
  std::string buf_;
};

}  // namespace sluice::sim
