#pragma once
// A traffic profile: one typical week (168 hours, Monday 00:00 UTC first) of requests and tokens per model,
// each hour's tokens split into those at the model's peak and off-peak prices. From a YAML profile or from
// the ledger (which also gives the observed period and its cost).
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"

namespace sluice::plan {

inline constexpr int kHoursPerWeek = 168;
inline constexpr int kMinutesPerWeek = kHoursPerWeek * 60;

// Requests and their tokens (sums; fractional in an averaged week).
struct Tokens {
  double requests = 0;
  double cache_hit = 0;   // prompt tokens served from the provider's prompt cache
  double cache_miss = 0;  // the other prompt tokens
  double completion = 0;
  double prompt() const { return cache_hit + cache_miss; }
  void add(const Tokens& t, double scale = 1.0);
  Tokens scaled(double f) const;
};

struct HourLoad {
  Tokens peak;                 // at the model's full price
  Tokens off_peak;             // inside its off-peak windows
  double cached_requests = 0;  // answered by the gateway's response cache: gateway load, no tokens billed
  Tokens total() const;
};

struct ModelProfile {
  std::string name;  // upstream model id (the pricing key)
  std::array<HourLoad, kHoursPerWeek> hours{};
  double deferrable_share = 0;  // of its requests, may wait for a cheaper or idler hour
  double prompt_p99 = 0;        // tokens; drives the prefill part of p99 first-token time
  double completion_p99 = 0;
  Tokens week_total() const;
};

// What the ledger holds for the period read, priced with the plan's pricing minute by minute.
struct Observed {
  std::int64_t from_ms = 0;      // first minute with a row
  std::int64_t to_ms = 0;        // end of the last minute with a row
  double upstream_requests = 0;  // answered by an upstream, status 2xx
  double failed_requests = 0;    // upstream rows with another status
  double cached_requests = 0;    // cache, coalesced or stale
  Tokens tokens;                 // billed tokens (every upstream row)
  double api_cost_usd = 0;       // those tokens at the plan's prices
  double ledger_cost_usd = 0;    // what the ledger recorded
  double hours = 0;              // length of the period
};

struct Profile {
  std::string source;  // "profile FILE" or "ledger FILE (from – to)"
  std::vector<ModelProfile> models;
  std::optional<Observed> observed;
  std::vector<std::string> notes;  // e.g. how hours the ledger does not cover were filled
  double week_requests() const;
};

}  // namespace sluice::plan
