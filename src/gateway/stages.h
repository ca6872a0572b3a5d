#pragma once
// The stages of a proxied request (docs/architecture.md). Each takes the request's context and returns a
// decision; none writes to the client: the pipeline hands answers to the writer.
#include <optional>

#include "gateway/context.h"
#include "gateway/writer.h"

namespace sluice::gateway {

// The request is well formed for its endpoint and names a model this gateway serves: fills ctx.view,
// ctx.group, ctx.deadline and the metrics' model, or returns the 4xx to send.
std::optional<LocalReply> validate(RequestContext& ctx);

// Admission as a local answer the writer can send.
LocalReply rejection_reply(const admission::Rejection& r);

}  // namespace sluice::gateway
