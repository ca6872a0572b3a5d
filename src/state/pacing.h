#pragma once
// Provider-key pacing shared between replicas, the fourth kind of shared state: what the provider last said about
// each of its API keys (x-ratelimit-*, Retry-After, 429, 402), on the wall clock because replicas' steady clocks
// differ, and how many requests each replica has in flight on it. routing::KeyPacer implements PacingView; the
// state backend publishes its observations and merges the other replicas' (redis: pacer_sync.cc).
#include <cstdint>
#include <string>
#include <string_view>

namespace sluice::state {

struct PacingObservation {
  std::int64_t observed_ms = 0;  // unix ms of the answer; 0 = nothing seen yet
  std::int64_t limit = -1;
  std::int64_t remaining = -1;
  std::int64_t reset_ms = 0;  // absolute unix ms (0 = none)
  std::int64_t tokens_remaining = -1;
  std::int64_t tokens_reset_ms = 0;
  std::int64_t blocked_ms = 0;
  std::int64_t disabled_ms = 0;
  std::string encode() const;
  static PacingObservation decode(std::string_view s);  // observed_ms 0 when malformed
};

// The provider keys of one upstream, as the shared state sees them.
class PacingView {
 public:
  virtual ~PacingView() = default;
  virtual std::size_t size() const = 0;
  virtual const std::string& name(std::size_t k) const = 0;  // the env var name, never the secret
  // This replica's latest observation of key k, and its requests in flight on it.
  virtual PacingObservation observation(std::size_t k, std::int64_t unix_ms) const = 0;
  virtual std::uint32_t pending(std::size_t k) const = 0;
  // Another replica's observation (adopted when newer) and the other replicas' requests in flight on key k.
  virtual void merge(std::size_t k, const PacingObservation& o, std::uint32_t others_pending,
                     std::int64_t unix_ms) = 0;
};

}  // namespace sluice::state
