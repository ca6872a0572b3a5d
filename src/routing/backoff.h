#pragma once
// Retry delays: full-jitter exponential backoff (AWS) and Retry-After with jitter (Envoy), never past a deadline.
#include <chrono>
#include <cstdint>
#include <optional>
#include <random>
#include <string_view>

namespace sluice::routing {

using Ms = std::chrono::milliseconds;

struct BackoffPolicy {
  Ms base{100};
  Ms cap{2000};
};

// Delay before retry number `retry` (0 = first retry): U(0, min(cap, base * 2^retry)).
Ms full_jitter(const BackoffPolicy& p, unsigned retry, std::mt19937_64& rng);

// Honouring an upstream's Retry-After of `after`: U(after, 1.5 * after), so clients told the same value do not
// come back in lockstep.
Ms retry_after_jitter(Ms after, std::mt19937_64& rng);

// Parses Retry-After: delta-seconds ("3", "1.5") only; HTTP-dates are rare from LLM APIs and treated as absent.
std::optional<Ms> parse_retry_after(std::string_view v);

// The delay if it fits before the deadline (leaving `min_attempt` for the attempt itself), else nullopt:
// better to fail fast with an honest error than to sleep into a timeout.
std::optional<Ms> fit_before_deadline(Ms delay, Ms remaining, Ms min_attempt = Ms{50});

}  // namespace sluice::routing
