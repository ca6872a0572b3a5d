#include "cache/answer_codec.h"

#include <array>
#include <cstring>

namespace sluice::cache {

namespace {
constexpr std::string_view kMagic = "SLC1";

void put_u64(std::string& out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) {
    out += static_cast<char>((v >> (8 * i)) & 0xff);
  }
}

void put_bytes(std::string& out, std::string_view s) {
  put_u64(out, s.size());
  out += s;
}

// Reads from the front of `in`; false when it is too short.
bool get_u64(std::string_view& in, std::uint64_t& v) {
  if (in.size() < 8) {
    return false;
  }
  v = 0;
  for (int i = 0; i < 8; ++i) {
    v |= std::uint64_t(static_cast<unsigned char>(in[static_cast<std::size_t>(i)])) << (8 * i);
  }
  in.remove_prefix(8);
  return true;
}

bool get_bytes(std::string_view& in, std::string& s) {
  std::uint64_t n = 0;
  if (!get_u64(in, n) || n > in.size()) {
    return false;
  }
  s.assign(in.substr(0, n));
  in.remove_prefix(n);
  return true;
}
}  // namespace

std::string encode_answer(const CachedAnswer& a, std::int64_t stored_unix_ms) {
  std::string out;
  out.reserve(a.bytes() + 128);
  out += kMagic;
  put_u64(out, static_cast<std::uint64_t>(stored_unix_ms));
  for (std::string_view s : {std::string_view(a.json), std::string_view(a.sse_main), std::string_view(a.sse_usage),
                             std::string_view(a.upstream_model), std::string_view(a.upstream)}) {
    put_bytes(out, s);
  }
  const std::array<std::int64_t, 6> u{a.usage.prompt_tokens,           a.usage.completion_tokens,
                                      a.usage.total_tokens,            a.usage.prompt_cache_hit_tokens,
                                      a.usage.prompt_cache_miss_tokens, a.usage.reasoning_tokens};
  for (std::int64_t v : u) {
    put_u64(out, static_cast<std::uint64_t>(v));
  }
  return out;
}

std::optional<CachedAnswer> decode_answer(std::string_view in, std::int64_t& stored_unix_ms) {
  if (!in.starts_with(kMagic)) {
    return std::nullopt;
  }
  in.remove_prefix(kMagic.size());
  CachedAnswer a;
  std::uint64_t stored = 0;
  if (!get_u64(in, stored)) {
    return std::nullopt;
  }
  for (std::string* s : {&a.json, &a.sse_main, &a.sse_usage, &a.upstream_model, &a.upstream}) {
    if (!get_bytes(in, *s)) {
      return std::nullopt;
    }
  }
  std::array<std::int64_t*, 6> u{&a.usage.prompt_tokens,           &a.usage.completion_tokens,
                                 &a.usage.total_tokens,            &a.usage.prompt_cache_hit_tokens,
                                 &a.usage.prompt_cache_miss_tokens, &a.usage.reasoning_tokens};
  for (std::int64_t* v : u) {
    std::uint64_t raw = 0;
    if (!get_u64(in, raw)) {
      return std::nullopt;
    }
    *v = static_cast<std::int64_t>(raw);
  }
  if (!in.empty()) {
    return std::nullopt;
  }
  stored_unix_ms = static_cast<std::int64_t>(stored);
  return a;
}

}  // namespace sluice::cache
