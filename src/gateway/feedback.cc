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
// The mean recent success rate of the group's other hosts that have a record (nullopt without one).
std::optional<double> peer_success(const routing::Group& group, const routing::HostState& host) {
  double sum = 0;
  int n = 0;
  for (const routing::HostState* h : group.hosts) {
    if (h != &host) {
      if (const auto s = h->recent_success()) {
        sum += *s;
        ++n;
      }
    }
  }
  return n > 0 ? std::optional<double>(sum / n) : std::nullopt;
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
  const bool ok = !routing::host_failure(out.failure);
  if (leg.host->record(ok, ttft, ended, ok ? std::nullopt : peer_success(group, *leg.host))) {
    deps.metrics.on_ejection(up);
    spdlog::warn("upstream {} ejected after repeated failures (last: {})", up.name, to_string(out.failure));
  }
  // Accepted: anything the upstream answered usefully, a refusal of the request itself included. An answer
  // cut short (insufficient_system_resource) is the provider failing: its continuation is a retry.
  group.budget->record(!routing::retriable(out.failure) && !out.cut_short, ended);
}

}  // namespace sluice::gateway
