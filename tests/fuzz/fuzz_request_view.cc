// The request view and validation (openai/request_view.h): any body is accepted or refused with a message;
// an accepted body keeps being accepted, with the same view, after the gateway rewrites its model or asks
// for stream usage.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "openai/request_view.h"
#include "openai/stream_options.h"
#include "openai/usage.h"

using sluice::fuzz::check;
using namespace sluice::openai;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const Api api = static_cast<Api>(data[0] % 3);
  std::string body(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] & 4) body.reserve(body.size() + 64);  // with and without the padding the gateway leaves
  RequestView view;
  const auto err = parse_request_view(body, api, view);
  if (err) {
    check(!err->message.empty() && !err->code.empty(), "an error has a message and a code");
    return 0;
  }
  check(!view.model.empty(), "an accepted request names its model");
  check(!view.max_tokens || *view.max_tokens > 0, "max_tokens is positive");
  check(is_valid_json(body), "an accepted body is JSON");

  std::string renamed = body;
  check(rewrite_model(renamed, "fuzz/model\"x"), "the model of an accepted body can be rewritten");
  RequestView again;
  const auto err2 = parse_request_view(renamed, api, again);
  check(!err2, "a rewritten body is still accepted");
  check(again.model == "fuzz/model\"x" && again.stream == view.stream && again.max_tokens == view.max_tokens &&
            again.include_usage == view.include_usage && again.zero_temperature == view.zero_temperature,
        "rewriting the model changes nothing else");

  if (view.stream && api != Api::kEmbeddings) {
    std::string usage = body;
    if (request_stream_usage(usage)) {
      RequestView streamed;
      const auto err3 = parse_request_view(usage, api, streamed);
      check(!err3, "asking for stream usage keeps the body valid");
      check(streamed.include_usage && streamed.model == view.model, "... and asks for it");
    }
  }
  return 0;
}
