#pragma once
// The cache key of a request: a hash of its normalised body. Two requests that must get the same answer
// hash alike even when their JSON differs in key order, spacing, number spelling or answer shape (stream).
#include <optional>
#include <string>
#include <string_view>

namespace sluice::cache {

struct RequestKey {
  std::string digest;  // hex SHA-256 of the normalised request
};

// `routed_model` replaces the body's "model" (the group that serves it, after routing). Left out of the key:
// stream and stream_options (the answer's shape, converted on replay), user (metadata). nullopt when the body
// is not a JSON object. Whether the request may be cached at all (temperature 0) is openai::RequestView's
// zero_temperature, decided before the key is built.
std::optional<RequestKey> request_key(std::string_view path, std::string_view routed_model,
                                      std::string_view body);

// Cache-Control request directives the cache honours.
struct CacheControl {
  bool no_cache = false;  // do not answer from the cache (a fresh answer may still be stored)
  bool no_store = false;  // neither read nor store
};
CacheControl parse_cache_control(std::string_view header);

}  // namespace sluice::cache
