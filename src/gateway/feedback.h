#pragma once
// What a finished attempt teaches the gateway: the provider key's pacing, the host's health (outlier
// ejection, latency), the group's hedge delay and retry budget, admission's adaptive limit, and the attempt
// metrics. Attempts cut short because another attempt of the request won say nothing about their host.
#include "gateway/executor.h"
#include "upstream/race.h"

namespace sluice::gateway {

void record_attempt(const ExecutorDeps& deps, const routing::Group& group, upstream::Leg& leg,
                    Clock::time_point ended);

}  // namespace sluice::gateway
