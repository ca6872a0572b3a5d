#pragma once
// The Lua scripts behind the shared counters: each check-and-reserve is one atomic EVALSHA on Redis's own clock
// (TIME), so replicas' clocks never matter. Every script touches the keys of one hash tag only, so a Redis
// Cluster keeps each virtual key's counters on one shard. The arithmetic mirrors the pure C++ in lease.h.
#include <array>
#include <string>
#include <string_view>

#include "state/redis/resp.h"

namespace sluice::state::redis {

enum class Script : std::uint8_t {
  // KEYS: bucket. ARGV: emission_us, capacity_us, need, want.
  // → {granted, remaining, reset_us, retry_after_us}: grants min(want, what fits) when need fits, else 0.
  kGcraTake,
  // KEYS: bucket. ARGV: emission_us, units (> 0 given back, never beyond full; < 0 owed, charged unchecked).
  kGcraAdjust,
  // KEYS: allotment hash. ARGV: replica, want, floor, limit (0: none), ttl_ms.
  // Sets this replica's allotment to max(floor, min(want, limit - live allotments of the others)).
  // → {held, total held by live replicas}
  kSlots,
  // KEYS: day hash, month hash. ARGV: replica, want, need, floor, add_spent, cap_day, cap_month, ttl_ms,
  // day_ttl_s, month_ttl_s. Adds settled spend; with need > 0 grants an allotment of max(need, min(want,
  // room)) while room (cap - spent - others' allotments) exceeds floor, else holds floor and refuses.
  // → {granted, held, day_spent, month_spent, day_others, month_others}
  kSpend,
  // KEYS: replica set. ARGV: replica, ttl_ms. Marks this replica alive, forgets silent ones. → live count
  kPresence,
  // KEYS: provider-key hash. ARGV: replica, observation ("" = none), observed_ms, pending, ttl_ms. Keeps the
  // newest observation and each replica's requests in flight. → {observation, others' requests in flight}
  kPacer,
  // KEYS: lock. ARGV: owner. Deletes the lock only while the owner holds it. → 1 deleted, 0 not
  kUnlock,
};
inline constexpr std::size_t kScriptCount = 7;

// Source and SHA-1 (what EVALSHA names) of every script.
class Scripts {
 public:
  Scripts();
  std::string_view source(Script s) const { return sources_[static_cast<std::size_t>(s)]; }
  const std::string& sha(Script s) const { return shas_[static_cast<std::size_t>(s)]; }
  // EVALSHA sha numkeys keys... args...
  Command call(Script s, std::initializer_list<std::string_view> keys) const;
  // SCRIPT LOAD of each, for a fresh connection.
  std::vector<Command> load_commands() const;
  // An EVALSHA command turned into EVAL with the source (after NOSCRIPT); false when it is not a script call.
  bool to_eval(Command& cmd) const;

 private:
  std::array<std::string_view, kScriptCount> sources_;
  std::array<std::string, kScriptCount> shas_;
};

const Scripts& scripts();

}  // namespace sluice::state::redis
