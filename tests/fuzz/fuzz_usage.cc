// Usage extraction from upstream answers and stream chunks: the four entry points agree on what is JSON and
// on the usage they read.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "openai/usage.h"

using sluice::fuzz::check;
using namespace sluice::openai;

namespace {
bool same(const std::optional<Usage>& a, const std::optional<Usage>& b) {
  if (a.has_value() != b.has_value()) return false;
  if (!a) return true;
  return a->prompt_tokens == b->prompt_tokens && a->completion_tokens == b->completion_tokens &&
         a->total_tokens == b->total_tokens && a->prompt_cache_hit_tokens == b->prompt_cache_hit_tokens &&
         a->prompt_cache_miss_tokens == b->prompt_cache_miss_tokens && a->reasoning_tokens == b->reasoning_tokens;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const bool valid = is_valid_json(in);
  const ChunkInfo chunk = inspect_chunk(in);
  const std::optional<Usage> extracted = extract_usage(in);
  std::string body(in);
  const ResponseFacts facts = inspect_response(body);
  check(chunk.valid == valid && facts.valid == valid, "the entry points agree on validity");
  check(body == in, "inspect_response leaves the body's bytes alone");
  check(facts.valid || (!facts.error_object && !facts.cut_short && !facts.usage), "no facts of invalid JSON");
  check(!(facts.error_object && facts.cut_short), "an error object has no choices to cut short");
  if (valid) {
    check(same(extracted, facts.usage), "extract_usage and inspect_response read the same usage");
    check(same(chunk.usage, extracted) || !chunk.usage, "inspect_chunk reads the same usage");
    check(!chunk.usage_only || chunk.usage, "a usage-only chunk has usage");
  }
  return 0;
}
