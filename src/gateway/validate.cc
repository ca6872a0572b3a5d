#include <fmt/format.h>

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
}  // namespace

std::optional<LocalReply> validate(RequestContext& ctx) {
  if (!is_json_content_type(ctx.req[bhttp::field::content_type])) {
    return bad(415, "Content-Type must be application/json", "unsupported_media_type");
  }
  if (auto err = openai::parse_request_view(ctx.req.body(), ctx.view)) {
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
  if (auto t = routing::parse_retry_after(ctx.req["x-request-timeout"]); t && t->count() > 0) {
    ctx.deadline = std::min(ctx.deadline, ctx.started + *t);  // the client's own budget, in seconds
  }
  return std::nullopt;
}

LocalReply rejection_reply(const admission::Rejection& r) {
  return {.status = r.status,
          .message = r.message,
          .type = r.type,
          .code = std::string(r.code),
          .retry_after = r.retry_after};
}

}  // namespace sluice::gateway
