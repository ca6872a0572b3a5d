#pragma once
// The routing decisions of one request, as a pure state machine: which host to try next, after what delay,
// whether to hedge, whether to continue a broken stream elsewhere, when to give up. It sees the world only
// through a PlanView (hosts, health, key headroom, retry admission), a clock reading and an RNG, so every
// path is unit-tested with a table (tests/unit/routing/planner_test.cc); the executor (gateway/executor.cc)
// runs what it decides.
//
// The request tries its model group, then the group's fallbacks (depth first, each group once): up to the
// group's max_attempts, each retry (and each fallback's first try) admitted by the group's retry budget and
// delayed by full-jitter backoff or the upstream's Retry-After, never past the deadline. A 401/402 that
// speaks about one provider key leaves its host available for another key. A stream that broke after content
// was sent is continued on another host (mid-stream failover) while max_resumes, the deadline and the budget
// allow, or ended with an error event.
#include <chrono>
#include <cstdint>
#include <optional>
#include <random>
#include <string_view>

#include "config/config.h"
#include "routing/backoff.h"
#include "routing/failure.h"
#include "routing/router.h"

namespace sluice::routing {

// The groups of one request's chain (index 0: the requested group, then its fallbacks) and what the planner
// may ask about them. The executor's is backed by the router (plan_view.h); tests use a table.
class PlanView {
 public:
  virtual ~PlanView() = default;
  virtual std::size_t groups() const = 0;
  virtual const config::Model& model(std::size_t g) const = 0;
  virtual std::size_t hosts(std::size_t g) const = 0;
  // The balancer's choice, avoiding `avoid` unless every host is avoided (panic mode). `affinity`: prefer the
  // host the request's prompt prefix hashes to (retries of the main loop; not hedges or resumes).
  virtual std::size_t pick(std::size_t g, const HostMask& avoid, Clock::time_point now, bool affinity) = 0;
  virtual bool available(std::size_t g, std::size_t host, Clock::time_point now) const = 0;
  // Some provider key of the host can take a request now (key pacing).
  virtual bool key_headroom(std::size_t g, std::size_t host, Clock::time_point now) const = 0;
  // Every provider key of the host was refused (401/402) repeatedly and is out: trying it again answers the
  // same (key pacing; one refusal is a hiccup, not a verdict).
  virtual bool keys_refused(std::size_t g, std::size_t host, Clock::time_point now) const = 0;
  // The group's retry admission (routing/retry_budget.h): may a retry, fallback, hedge or resume go now?
  virtual bool admit_retry(std::size_t g, Clock::time_point now) = 0;
  // How long an attempt may go without content before a hedge; nullopt: the group does not hedge.
  virtual std::optional<Clock::duration> hedge_delay(std::size_t g) const = 0;
};

struct PlanLimits {
  Clock::time_point deadline = Clock::time_point::max();
  bool may_hedge = true;   // false for a coalescing leader: its tap follows one attempt
  bool may_resume = true;  // failover possible for this request (a chat completion, no tap), where the group's
                           // failover is enabled: streams that break, answers cut short
};

enum class Step : std::uint8_t {
  kAttempt,    // send the request to `host` of `group` after `delay`
  kResume,     // continue the broken stream (or the cut-short answer) on `host` of `group` (no delay, no key
               // wait, no hedge)
  kEndStream,  // it cannot be continued: end the stream with an error event, or send the answer as it is
  kDone,       // nothing more to try: the last outcome answers the request
};

struct Action {
  Step step = Step::kDone;
  std::size_t group = 0;
  std::size_t host = 0;
  Ms delay{0};
  bool retry = false;                          // kAttempt: not the request's first attempt
  std::optional<Clock::duration> hedge_after;  // kAttempt: hedge after this long without content
  std::string_view note;                       // kDone: why it stopped early (for the access log's detail)
};

// What an action produced, from the answering attempt (the race's winner, or the one that ran).
struct AttemptReport {
  UpstreamFailure failure = UpstreamFailure::kNone;
  unsigned status = 0;           // the upstream's HTTP status, 0 without one
  std::string_view retry_after;  // the upstream's Retry-After
  bool committed = false;        // the client's answer has started
  bool broken_stream = false;    // the client's stream is open and unfinished
  bool cut_short = false;  // a non-stream answer the provider cut short, held back from the client
  bool resumable = false;  // with broken_stream or cut_short: a continuation request can be built
  bool client_gone = false;
  std::size_t host = 0;  // the answering attempt's host
};

class Planner {
 public:
  Planner(PlanView& view, PlanLimits limits, std::mt19937_64& rng)
      : view_(view), limits_(limits), rng_(rng) {}
  ~Planner() = default;
  Planner(const Planner&) = delete;
  Planner& operator=(const Planner&) = delete;

  Action start(Clock::time_point now);
  Action next(const AttemptReport& report, Clock::time_point now);
  // While an attempt runs without content past its hedge delay: an untried healthy host for a second attempt,
  // admitted like a retry; nullopt when none may go (one hedge per attempt).
  std::optional<std::size_t> hedge(Clock::time_point now);

  std::size_t group() const { return group_; }
  unsigned resumes() const { return resumes_; }

 private:
  Action plan_attempt(Clock::time_point now, std::string_view retry_after);
  Action plan_resume(const AttemptReport& report, Clock::time_point now);
  bool advance_group();
  HostMask avoid_paced(Clock::time_point now) const;
  bool all_keys_refused(Clock::time_point now) const;

  PlanView& view_;
  PlanLimits limits_;
  std::mt19937_64& rng_;
  std::size_t group_ = 0;
  unsigned tries_ = 0;     // attempts started in the current group
  unsigned attempts_ = 0;  // attempts started by the request (any group)
  unsigned resumes_ = 0;
  bool resuming_ = false;  // a stream broke: from now on only continuations
  HostMask tried_;
};

}  // namespace sluice::routing
