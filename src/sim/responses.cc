#include "sim/responses.h"

#include <fmt/format.h>

#include <cmath>
#include <cstring>
#include <iterator>

#include "common/json.h"
#include "sim/distributions.h"

namespace sluice::sim {

std::string make_completion_id(uint64_t seed, uint64_t seq) {
  Rng r{mix_seed(seed, seq + 1)};
  uint64_t a = r.next();
  uint64_t b = r.next();
  return fmt::format("{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}", a >> 32, (a >> 16) & 0xffff, a & 0xfff,
                     0x8000 | ((b >> 48) & 0x3fff), b & 0xffffffffffffULL);
}

void append_usage(std::string& out, const Usage& u) {
  auto it = std::back_inserter(out);
  uint64_t hit = std::min(u.cache_hit, u.prompt);
  fmt::format_to(it, R"({{"prompt_tokens":{},"completion_tokens":{},"total_tokens":{},)", u.prompt,
                 u.completion, u.prompt + u.completion);
  fmt::format_to(it, R"("prompt_tokens_details":{{"cached_tokens":{}}},)", hit);
  if (u.reasoner) {
    fmt::format_to(it, R"("completion_tokens_details":{{"reasoning_tokens":{}}},)", u.reasoning);
  }
  fmt::format_to(it, R"("prompt_cache_hit_tokens":{},"prompt_cache_miss_tokens":{}}})", hit, u.prompt - hit);
}

std::string chat_completion_body(const BodyParts& p) {
  std::string out;
  out.reserve(512 + p.content.size() + p.reasoning.size());
  auto it = std::back_inserter(out);
  fmt::format_to(it, R"({{"id":"{}","object":"chat.completion","created":{},"model":)", p.id, p.created);
  append_json_string(out, p.model);
  out += R"(,"choices":[{"index":0,"message":{"role":"assistant","content":)";
  append_json_string(out, p.content);
  if (p.usage.reasoner) {
    out += R"(,"reasoning_content":)";
    append_json_string(out, p.reasoning);
  }
  fmt::format_to(it, R"(}},"logprobs":null,"finish_reason":"{}"}}],"usage":)", p.finish_reason);
  append_usage(out, p.usage);
  fmt::format_to(it, R"(,"system_fingerprint":"{}"}})", kFingerprint);
  return out;
}

std::string text_completion_body(const BodyParts& p) {
  std::string out;
  out.reserve(512 + p.content.size());
  auto it = std::back_inserter(out);
  fmt::format_to(it, R"({{"id":"{}","object":"text_completion","created":{},"model":)", p.id, p.created);
  append_json_string(out, p.model);
  out += R"(,"choices":[{"text":)";
  append_json_string(out, p.content);
  fmt::format_to(it, R"(,"index":0,"logprobs":null,"finish_reason":"{}"}}],"usage":)", p.finish_reason);
  append_usage(out, p.usage);
  fmt::format_to(it, R"(,"system_fingerprint":"{}"}})", kFingerprint);
  return out;
}

namespace {
constexpr std::size_t kEmbeddingDims = 256;

void append_base64(std::string& out, const unsigned char* data, std::size_t n) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (std::size_t i = 0; i < n; i += 3) {
    uint32_t v = static_cast<uint32_t>(data[i]) << 16;
    if (i + 1 < n) {
      v |= static_cast<uint32_t>(data[i + 1]) << 8;
    }
    if (i + 2 < n) {
      v |= data[i + 2];
    }
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(i + 1 < n ? kAlphabet[(v >> 6) & 63] : '=');
    out.push_back(i + 2 < n ? kAlphabet[v & 63] : '=');
  }
}
}  // namespace

std::string embeddings_body(std::string_view model, const ApiRequest& req, uint64_t seed) {
  std::string out;
  out.reserve(req.inputs.size() * kEmbeddingDims * 12 + 256);
  auto it = std::back_inserter(out);
  out += R"({"object":"list","data":[)";
  float vec[kEmbeddingDims];
  for (std::size_t i = 0; i < req.inputs.size(); ++i) {
    // A unit vector determined by the input text and the seed.
    Rng r{mix_seed(seed, req.inputs[i])};
    double norm = 0;
    for (auto& x : vec) {
      x = static_cast<float>(r.normal());
      norm += static_cast<double>(x) * x;
    }
    norm = std::sqrt(norm);
    fmt::format_to(it, R"({}{{"object":"embedding","index":{},"embedding":)", i ? "," : "", i);
    if (req.base64) {
      for (auto& x : vec) {
        x = static_cast<float>(x / norm);
      }
      out.push_back('"');
      append_base64(out, reinterpret_cast<const unsigned char*>(vec), sizeof(vec));
      out.push_back('"');
    } else {
      out.push_back('[');
      for (std::size_t k = 0; k < kEmbeddingDims; ++k) {
        fmt::format_to(it, "{}{:.6f}", k ? "," : "", vec[k] / norm);
      }
      out.push_back(']');
    }
    out.push_back('}');
  }
  out += R"(],"model":)";
  append_json_string(out, model);
  fmt::format_to(it, R"(,"usage":{{"prompt_tokens":{},"total_tokens":{}}}}})", req.prompt_tokens,
                 req.prompt_tokens);
  return out;
}

ChunkWriter::ChunkWriter(Endpoint ep, std::string_view id, int64_t created, std::string_view model) : ep_(ep) {
  auto it = std::back_inserter(prefix_);
  fmt::format_to(it, R"(data: {{"id":"{}","object":"{}","created":{},"model":)", id,
                 ep == Endpoint::kChat ? "chat.completion.chunk" : "text_completion", created);
  append_json_string(prefix_, model);
  fmt::format_to(it, R"(,"system_fingerprint":"{}","choices":[)", kFingerprint);
  buf_.reserve(prefix_.size() + 512);
}

std::string_view ChunkWriter::role_chunk() {
  buf_ = prefix_;
  if (ep_ == Endpoint::kChat) {
    buf_ += R"({"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]})";
  } else {
    buf_ += R"({"text":"","index":0,"logprobs":null,"finish_reason":null}]})";
  }
  buf_ += "\n\n";
  return buf_;
}

std::string_view ChunkWriter::token_chunk(std::string_view text, bool reasoning) {
  buf_ = prefix_;
  if (ep_ == Endpoint::kChat) {
    buf_ += reasoning ? R"({"index":0,"delta":{"content":null,"reasoning_content":)"
                      : R"({"index":0,"delta":{"content":)";
    append_json_string(buf_, text);
    buf_ += R"(},"logprobs":null,"finish_reason":null}]})";
  } else {
    buf_ += R"({"text":)";
    append_json_string(buf_, text);
    buf_ += R"(,"index":0,"logprobs":null,"finish_reason":null}]})";
  }
  buf_ += "\n\n";
  return buf_;
}

std::string_view ChunkWriter::finish_chunk(std::string_view finish_reason, const Usage* usage) {
  buf_ = prefix_;
  auto it = std::back_inserter(buf_);
  if (ep_ == Endpoint::kChat) {
    fmt::format_to(it, R"({{"index":0,"delta":{{"content":""}},"logprobs":null,"finish_reason":"{}"}}])",
                   finish_reason);
  } else {
    fmt::format_to(it, R"({{"text":"","index":0,"logprobs":null,"finish_reason":"{}"}}])", finish_reason);
  }
  if (usage) {
    buf_ += R"(,"usage":)";
    append_usage(buf_, *usage);
  }
  buf_ += "}\n\n";
  return buf_;
}

std::string_view ChunkWriter::usage_chunk(const Usage& usage) {
  buf_ = prefix_;
  buf_ += R"(],"usage":)";
  append_usage(buf_, usage);
  buf_ += "}\n\n";
  return buf_;
}

std::string_view ChunkWriter::malformed_chunk() {
  buf_ = prefix_;
  buf_ += R"({"index":0,"delta":{"content":"trunc)";
  buf_ += "\n\n";
  return buf_;
}

}  // namespace sluice::sim
