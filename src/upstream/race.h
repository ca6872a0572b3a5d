#pragma once
// Hedged attempts: the primary attempt runs; if no content arrived within the hedge delay, a second attempt
// (the hedge) starts on another host, and the two race on the same worker. The first to produce content
// claims the client (AttemptGate); the other's connection is closed at once (never pooled) and its outcome is
// marked lost_race. Without a delay the primary attempt runs alone (SoleLeg).
#include <memory>
#include <optional>
#include <string>

#include "common/cancel_scope.h"
#include "common/function_ref.h"
#include "routing/router.h"
#include "upstream/attempt.h"
#include "upstream/key_lease.h"
#include "upstream/transport.h"

namespace sluice::upstream {

// One attempt of a race and everything its AttemptSpec points into.
struct Leg {
  std::size_t idx = 0;  // deployment index in the group
  routing::HostState* host = nullptr;
  std::string rewritten;  // body with this deployment's model id, when it differs
  std::string head;
  std::optional<AttemptSpec> spec;
  AttemptOutcome out;
  StreamStitch stitch;          // this leg's view of the stream (mid-stream failover); the winner's is kept
  std::optional<KeyLease> key;  // the provider key this leg is sent with
  CancelScope cancel;           // stops this leg only (the race's loser); spec->cancel points here
  bool started = false;
  bool done = false;

  Leg() = default;
  Leg(const Leg&) = delete;
  Leg& operator=(const Leg&) = delete;
  // Cancelling `request`'s kUpstream hooks (the client left) cancels this leg too, while the leg lives.
  void link(CancelScope& request) { link_.emplace(request, CancelScope::kUpstream, cancel_leg_); }

 private:
  struct CancelLeg {
    Leg* leg;
    void operator()() const { leg->cancel.cancel(); }
  } cancel_leg_{this};
  std::optional<CancelScope::Hook> link_;  // last: unlinks before the rest of the leg goes
};

// Both refer to callables the caller keeps alive across the race.
struct RaceHooks {
  // Fills the hedge leg (another host, budget taken); false when no hedge may be sent.
  FunctionRef<bool(Leg&)> start_hedge;
  // Runs when a leg claims the client, before its first byte is written (headers naming the upstream).
  FunctionRef<void(const Leg&)> on_claim;
};

struct RaceResult {
  int answer = 0;       // index of the leg whose outcome answers the request
  bool hedged = false;  // legs[1] ran
};

// Returns once every started leg has finished.
net::awaitable<RaceResult> race_attempts(Leg (&legs)[2], Clock::duration hedge_delay, Transport& transport,
                                         ClientSink& sink, const RaceHooks& hooks);

// Counts an attempt in flight on its host while it lives.
class InFlight {
 public:
  explicit InFlight(routing::HostState& host) : h_(host) { h_.attempt_started(); }
  ~InFlight() { h_.attempt_finished(); }
  InFlight(const InFlight&) = delete;
  InFlight& operator=(const InFlight&) = delete;

 private:
  routing::HostState& h_;
};

// A leg that runs alone (no hedge delay): the caller awaits transport.attempt(*leg.spec, ...) while this
// lives, in its own frame rather than in race_attempts'. Alone it claims nothing: the executor already named
// its upstream. Marks the leg started, then done, and counts it in flight on its host.
class SoleLeg {
 public:
  explicit SoleLeg(Leg& leg) : leg_(leg), counted_(*leg.host) { leg_.started = true; }
  ~SoleLeg() { leg_.done = true; }
  SoleLeg(const SoleLeg&) = delete;
  SoleLeg& operator=(const SoleLeg&) = delete;

 private:
  Leg& leg_;
  InFlight counted_;
};

}  // namespace sluice::upstream
