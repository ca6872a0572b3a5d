#pragma once
// A traffic profile from the gateway's ledger (src/ledger/schema.h): per-second totals are read per minute
// and model, priced minute by minute with the plan's pricing (the observed period's API cost), and averaged
// into a typical week by hour of the week.
#include <map>
#include <optional>
#include <string>

#include "config/config.h"
#include "plan/profile.h"

namespace sluice::plan {

// One minute of one upstream model's rows, as the ledger holds them.
struct LedgerMinute {
  std::int64_t minute = 0;  // unix minute
  std::string model;        // upstream model id ("" when the request never reached one)
  std::string source;       // upstream | cache | coalesced | stale
  bool ok = true;           // status 2xx
  std::int64_t requests = 0, prompt = 0, completion = 0, cache_hit = 0, cache_miss = 0;
  double cost_usd = 0;  // as recorded
};

// Rows of one model grouped by their per-request prompt and completion size, for the p99s.
struct LedgerSizes {
  std::string model;
  double prompt = 0;  // tokens per request in the row
  double completion = 0;
  double requests = 0;
};

// Builds the profile from already-read rows (pure; unit-tested).
Profile profile_from_minutes(const std::vector<LedgerMinute>& rows, const std::vector<LedgerSizes>& sizes,
                             const std::map<std::string, config::Price>& pricing, double deferrable_share);

// Reads the ledger file (read-only); nullopt + error when it is not a readable sluice ledger or is empty.
std::optional<Profile> read_ledger(const std::string& path,
                                   const std::map<std::string, config::Price>& pricing,
                                   double deferrable_share, std::string& error);

}  // namespace sluice::plan
