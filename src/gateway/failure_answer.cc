#include "gateway/failure_answer.h"

#include <fmt/format.h>

#include "http/openai_error.h"
#include "openai/usage.h"

namespace sluice::gateway {

FailureAnswer failure_answer(const upstream::AttemptOutcome& out) {
  const routing::FailureInfo& info = routing::describe(out.failure);
  FailureAnswer a;
  if (out.upstream_status >= 400) {
    a.retry_after = out.retry_after;
  }
  if (out.upstream_status < 400 || out.failure == routing::UpstreamFailure::kAuthRejected) {
    a.status = info.status;  // the provider refused the gateway's key: the client's request is not at fault
    a.body = http::openai_error_body(info.message, info.type, info.name);
    return a;
  }
  a.status = out.upstream_status;
  if (out.error_body.starts_with('{') && out.error_body.find("\"error\"") != std::string::npos &&
      openai::is_valid_json(out.error_body)) {
    a.body = out.error_body;  // already an OpenAI error envelope
  } else {
    a.body = http::openai_error_body(fmt::format("{} (HTTP {})", info.message, out.upstream_status),
                                     info.type, info.name);
  }
  return a;
}

std::string failure_stream_tail(routing::UpstreamFailure failure) {
  const routing::FailureInfo& info = routing::describe(failure);
  return http::openai_error_stream_tail(info.message, info.type, info.name);
}

}  // namespace sluice::gateway
