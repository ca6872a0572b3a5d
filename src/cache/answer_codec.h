#pragma once
// A cached answer as bytes, for a shared store (Redis): both replay shapes, what it cost, where it came from and
// when it was stored (unix ms, so every replica can tell its age).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "cache/response_cache.h"

namespace sluice::cache {

std::string encode_answer(const CachedAnswer& a, std::int64_t stored_unix_ms);
// nullopt when `bytes` is not an encoded answer (another version, truncated).
std::optional<CachedAnswer> decode_answer(std::string_view bytes, std::int64_t& stored_unix_ms);

}  // namespace sluice::cache
