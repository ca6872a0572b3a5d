#pragma once
// The provider API key of one attempt: chosen by the upstream's KeyPacer (headroom from x-ratelimit-*),
// held until the attempt's answer has been learnt from. Releases itself if the request ends early.
#include <optional>
#include <string_view>

#include "common/cancel_scope.h"
#include "routing/router.h"
#include "upstream/attempt.h"

namespace sluice::upstream {

class KeyLease {
 public:
  explicit KeyLease(routing::HostState& host) : host_(host) {}
  KeyLease(const KeyLease&) = delete;
  KeyLease& operator=(const KeyLease&) = delete;
  ~KeyLease();

  // Takes a key with headroom. When none has any, waits for the earliest reset if that fits before `deadline`
  // (cancelled with the scope's kWait hooks: a client leaving), otherwise takes the least bad key at once and
  // lets the provider answer. Returns false when the wait was cancelled.
  net::awaitable<bool> acquire(Clock::time_point deadline, CancelScope& cancel);
  // acquire()'s common case without a coroutine frame: takes a key with headroom if one has it.
  bool try_take(Clock::time_point now);
  // Takes a key at once, never waiting (hedges, continuations): one with headroom, else the least bad.
  void take_now(Clock::time_point now);
  std::string_view secret() const;
  // Learns from the attempt's answer (which ended at `now`) and ends the lease.
  void finish(const AttemptOutcome& out, Clock::time_point now);

 private:
  routing::HostState& host_;
  std::optional<std::size_t> key_;
};

}  // namespace sluice::upstream
