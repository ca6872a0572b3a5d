#include "gateway/feedback.h"

#include <spdlog/spdlog.h>

#include "admission/admission.h"
#include "gateway/gateway_metrics.h"
#include "routing/retry_rules.h"

namespace sluice::gateway {

namespace {
// A timeout is a (lower bound) latency sample.
std::optional<double> ttft_sample(const AttemptOutcome& out, const config::Upstream& up) {
  if (out.ttft) {
    return double(out.ttft->count());
  }
  if (out.failure == routing::UpstreamFailure::kFirstTokenTimeout) {
    return double(up.timeouts.first_token.count());
  }
  return std::nullopt;
}
}  // namespace

void record_attempt(const ExecutorDeps& deps, const routing::Group& group, upstream::Leg& leg,
                    Clock::time_point ended) {
  const AttemptOutcome& out = leg.out;
  if (leg.key) {
    leg.key->finish(out, ended);  // the provider's rate-limit headers (or 429/402) for this key
  }
  if (!leg.started || out.lost_race) {
    return;
  }
  const config::Upstream& up = leg.host->upstream();
  deps.metrics.on_attempt(up, out.failure);
  deps.admission.on_attempt(group.model->name,
                            out.ttft ? std::optional<double>(out.ttft->count()) : std::nullopt,
                            out.upstream_status == 429 || out.upstream_status == 503 ||
                                out.failure == routing::UpstreamFailure::kFirstTokenTimeout);
  const std::optional<double> ttft = ttft_sample(out, up);
  if (ttft && group.hedge) {
    group.hedge->observe(*ttft);
  }
  if (leg.host->record(!routing::host_failure(out.failure), ttft, ended)) {
    deps.metrics.on_ejection(up);
    spdlog::warn("upstream {} ejected after repeated failures (last: {})", up.name, to_string(out.failure));
  }
  if (out.failure == routing::UpstreamFailure::kNone) {
    group.budget->record_success();
  } else if (routing::retriable(out.failure)) {
    group.budget->record_failure();
  }
}

}  // namespace sluice::gateway
