#include <fmt/format.h>

#include <algorithm>

#include "common/strings.h"
#include "gateway/gateway.h"
#include "gateway/stages.h"
#include "routing/backoff.h"

namespace sluice::gateway {

namespace {
bool is_json_content_type(std::string_view ct) {
  ct = ct.substr(0, ct.find(';'));
  while (!ct.empty() && ct.back() == ' ') {
    ct.remove_suffix(1);
  }
  return equals_lower(ct, "application/json");
}

LocalReply bad(unsigned status, std::string message, std::string_view code, std::string_view param = {}) {
  return {.status = status,
          .message = std::move(message),
          .code = std::string(code),
          .param = std::string(param)};
}
openai::Api api_of(Endpoint ep) {
  switch (ep) {
    case Endpoint::kChatCompletions:
      return openai::Api::kChatCompletions;
    case Endpoint::kCompletions:
      return openai::Api::kCompletions;
    case Endpoint::kEmbeddings:
      break;
  }
  return openai::Api::kEmbeddings;
}

// X-Priority names a class in any letter case; anything else is refused rather than quietly made medium.
std::optional<LocalReply> validate_priority(RequestContext& ctx) {
  const std::string_view given = trim(ctx.req["x-priority"]);
  if (given.empty()) {
    return std::nullopt;
  }
  ctx.priority.resize(given.size());
  std::transform(given.begin(), given.end(), ctx.priority.begin(),
                 [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + ('a' - 'A')) : c; });
  if (config::parse_priority(ctx.priority)) {
    return std::nullopt;
  }
  return bad(400, "X-Priority must be high, medium or low, got \"" + std::string(given.substr(0, 64)) + "\"",
             "invalid_priority", "X-Priority");
}
}  // namespace

std::optional<LocalReply> validate(RequestContext& ctx) {
  if (!is_json_content_type(ctx.req[bhttp::field::content_type])) {
    return bad(415, "Content-Type must be application/json", "unsupported_media_type");
  }
  if (auto err = openai::parse_request_view(ctx.req.body(), api_of(ctx.endpoint), ctx.view)) {
    return bad(400, err->message, err->code, err->param);
  }
  ctx.log.model = ctx.view.model;
  ctx.log.stream = ctx.view.stream;
  if (ctx.endpoint == Endpoint::kEmbeddings && ctx.view.stream) {
    return bad(400, "embeddings do not support stream", "invalid_value", "stream");
  }
  ctx.group = ctx.state.router->group(ctx.view.model);
  if (!ctx.group) {
    return bad(404,
               fmt::format("The model `{}` does not exist or you do not have access to it.", ctx.view.model),
               "model_not_found", "model");
  }
  ctx.metrics.info().model = ctx.group->model;
  ctx.metrics.set_stream(ctx.view.stream);
  ctx.deadline = ctx.started + ctx.group->model->request_timeout;
  if (const std::string_view t = ctx.req["x-request-timeout"]; !t.empty()) {
    const auto budget = routing::parse_retry_after(t);
    if (!budget || budget->count() <= 0) {
      return bad(400, "X-Request-Timeout must be a positive number of seconds (at most 86400), got \"" +
                          std::string(t.substr(0, 64)) + "\"",
                 "invalid_request_timeout", "X-Request-Timeout");
    }
    ctx.deadline = std::min(ctx.deadline, ctx.started + *budget);  // the client's own budget
  }
  return validate_priority(ctx);
}

LocalReply rejection_reply(const admission::Rejection& r) {
  return {.status = r.status,
          .message = r.message,
          .type = r.type,
          .code = std::string(r.code),
          .retry_after = r.retry_after};
}

}  // namespace sluice::gateway
