// The routing planner, table-driven: a fake view of the groups (health, key headroom, retry slots), a fixed
// clock and a seeded RNG; each case feeds attempt reports and checks every action the planner takes.
#include "routing/planner.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sluice::routing {
namespace {

using namespace std::chrono_literals;

struct FakeGroup {
  config::Model model;
  std::vector<bool> available;  // per host
  std::vector<bool> headroom;   // per host: some provider key can take a request
  std::vector<bool> refused;    // per host: every key refused (401/402) again and again
  std::optional<Clock::duration> hedge;
};

// Picks round robin over hosts not avoided (all avoided: the first, as panic mode would).
class TableView final : public PlanView {
 public:
  std::vector<FakeGroup> groups_;
  int retry_slots = 100;  // the budget: how many more acquire_retry() calls succeed
  int held = 0;           // slots taken and not yet released
  std::vector<int> active;
  std::vector<std::size_t> rr;

  explicit TableView(std::vector<FakeGroup> g)
      : groups_(std::move(g)), active(groups_.size()), rr(groups_.size()) {}
  std::size_t groups() const override { return groups_.size(); }
  const config::Model& model(std::size_t g) const override { return groups_[g].model; }
  std::size_t hosts(std::size_t g) const override { return groups_[g].available.size(); }
  std::size_t pick(std::size_t g, const HostMask& avoid, Clock::time_point, bool) override {
    const std::size_t n = hosts(g);
    for (std::size_t k = 0; k < n; ++k) {
      const std::size_t i = (rr[g] + k) % n;
      if (!avoid[i] && groups_[g].available[i]) {
        rr[g] = i + 1;
        return i;
      }
    }
    for (std::size_t k = 0; k < n; ++k) {
      const std::size_t i = (rr[g] + k) % n;
      if (!avoid[i]) {
        rr[g] = i + 1;
        return i;
      }
    }
    return 0;
  }
  bool available(std::size_t g, std::size_t h, Clock::time_point) const override {
    return groups_[g].available[h];
  }
  bool key_headroom(std::size_t g, std::size_t h, Clock::time_point) const override {
    return groups_[g].headroom[h];
  }
  bool keys_refused(std::size_t g, std::size_t h, Clock::time_point) const override {
    return groups_[g].refused[h];
  }
  bool admit_retry(std::size_t, Clock::time_point) override {
    if (retry_slots <= 0) {
      return false;
    }
    --retry_slots;
    return true;
  }
  std::optional<Clock::duration> hedge_delay(std::size_t g) const override { return groups_[g].hedge; }
};

FakeGroup group(std::string name, std::size_t hosts, unsigned max_attempts = 3) {
  FakeGroup g;
  g.model.name = std::move(name);
  g.model.retry.max_attempts = max_attempts;
  g.model.retry.backoff_base = 100ms;
  g.model.retry.backoff_cap = 2000ms;
  g.available.assign(hosts, true);
  g.headroom.assign(hosts, true);
  g.refused.assign(hosts, false);
  return g;
}

AttemptReport failed(std::size_t host, UpstreamFailure f, unsigned status = 0,
                     std::string_view retry_after = {}) {
  return {.failure = f, .status = status, .retry_after = retry_after, .host = host};
}
AttemptReport ok(std::size_t host) { return {.host = host}; }

const Clock::time_point kNow = Clock::time_point{} + 1000s;

// One step: the report fed to next() (none for start()), and the action expected back.
struct Expect {
  std::optional<AttemptReport> report;
  Step step;
  std::size_t group = 0;
  std::size_t host = 0;
  Ms min_delay{0};
  Ms max_delay{0};
  std::string_view note = {};
};

struct Case {
  std::string name;
  std::vector<FakeGroup> groups;
  PlanLimits limits;
  int retry_slots = 100;
  std::vector<Expect> steps;
};

void run(const Case& c) {
  SCOPED_TRACE(c.name);
  TableView view(c.groups);
  view.retry_slots = c.retry_slots;
  std::mt19937_64 rng(42);
  Planner p(view, c.limits, rng);
  for (std::size_t i = 0; i < c.steps.size(); ++i) {
    SCOPED_TRACE("step " + std::to_string(i));
    const Expect& e = c.steps[i];
    const Action a = e.report ? p.next(*e.report, kNow) : p.start(kNow);
    EXPECT_EQ(static_cast<int>(a.step), static_cast<int>(e.step));
    if (a.step == Step::kAttempt || a.step == Step::kResume) {
      EXPECT_EQ(a.group, e.group);
      EXPECT_EQ(a.host, e.host);
      EXPECT_GE(a.delay, e.min_delay);
      EXPECT_LE(a.delay, e.max_delay);
    }
    EXPECT_EQ(a.note, e.note);
  }
}

TEST(Planner, Table) {
  FakeGroup failover = group("fo", 3);
  failover.model.failover.enabled = true;
  failover.model.failover.max_resumes = 2;
  FakeGroup paced = group("paced", 2);
  paced.headroom = {false, true};
  FakeGroup all_paced = group("allpaced", 2);
  all_paced.headroom = {false, false};
  FakeGroup all_refused = group("refused", 2);
  all_refused.headroom = {false, false};
  all_refused.refused = {true, true};
  FakeGroup one_host = group("one", 1);
  one_host.headroom = {false};
  AttemptReport broken = failed(0, UpstreamFailure::kReset);
  broken.committed = broken.broken_stream = broken.resumable = true;
  AttemptReport broken_unresumable = broken;
  broken_unresumable.resumable = false;
  AttemptReport committed = failed(0, UpstreamFailure::kReset);
  committed.committed = true;
  AttemptReport resume1_failed = failed(1, UpstreamFailure::kConnectFailed);
  resume1_failed.resumable = true;  // the stream on the wire can still be continued
  AttemptReport resume2_failed = failed(2, UpstreamFailure::kReset);
  resume2_failed.resumable = true;
  AttemptReport gone = failed(0, UpstreamFailure::kReset);
  AttemptReport cut = ok(0);
  cut.cut_short = cut.resumable = true;
  FakeGroup one_key_per_host = group("keys", 2, 3);
  one_key_per_host.headroom = {true, true};
  gone.client_gone = true;

  const std::vector<Case> cases = {
      {"success at once", {group("a", 2)}, {}, 100, {{{}, Step::kAttempt, 0, 0}, {ok(0), Step::kDone}}},
      {"503 retried elsewhere with full jitter",
       {group("a", 2)},
       {},
       100,
       {{{}, Step::kAttempt, 0, 0},
        {failed(0, UpstreamFailure::kOverloaded, 503), Step::kAttempt, 0, 1, 0ms, 100ms},
        {ok(1), Step::kDone}}},
      {"third try backs off up to base x2",
       {group("a", 3)},
       {},
       100,
       {{{}, Step::kAttempt, 0, 0},
        {failed(0, UpstreamFailure::kReset), Step::kAttempt, 0, 1, 0ms, 100ms},
        {failed(1, UpstreamFailure::kReset), Step::kAttempt, 0, 2, 0ms, 200ms},
        {failed(2, UpstreamFailure::kReset), Step::kDone}}},
      {"client errors are not retried",
       {group("a", 2)},
       {},
       100,
       {{{}, Step::kAttempt, 0, 0}, {failed(0, UpstreamFailure::kClientError, 400), Step::kDone}}},
      {"a committed failure is final",
       {group("a", 2)},
       {},
       100,
       {{{}, Step::kAttempt, 0, 0}, {committed, Step::kDone}}},
      {"the client left", {group("a", 2)}, {}, 100, {{{}, Step::kAttempt, 0, 0}, {gone, Step::kDone}}},
      {"retry throttled (most recent attempts failed)",
       {group("a", 2)},
       {},
       0,
       {{{}, Step::kAttempt, 0, 0},
        {failed(0, UpstreamFailure::kOverloaded, 503), Step::kDone, 0, 0, 0ms, 0ms,
         "retry throttled (most recent attempts failed)"}}},
      {"no time left before the deadline",
       {group("a", 2)},
       {.deadline = kNow + 40ms},
       100,
       {{{}, Step::kAttempt, 0, 0},
        {failed(0, UpstreamFailure::kOverloaded, 503), Step::kDone, 0, 0, 0ms, 0ms,
         "no time left for another attempt"}}},
      {"Retry-After from a host without key headroom is honoured with jitter",
       {one_host},
       {},
       100,
       {{{}, Step::kAttempt, 0, 0},
        {failed(0, UpstreamFailure::kRateLimited, 429, "2"), Step::kAttempt, 0, 0, 2000ms, 3000ms},
        {ok(0), Step::kDone}}},
      {"fallback group after the attempts run out",
       {group("a", 2, 2), group("b", 1)},
       {},
       100,
       {{{}, Step::kAttempt, 0, 0},
        {failed(0, UpstreamFailure::kOverloaded, 503), Step::kAttempt, 0, 1, 0ms, 100ms},
        {failed(1, UpstreamFailure::kOverloaded, 503), Step::kAttempt, 1, 0, 0ms, 0ms},
        {failed(0, UpstreamFailure::kOverloaded, 503), Step::kAttempt, 1, 0, 0ms, 100ms},
        {failed(0, UpstreamFailure::kOverloaded, 503), Step::kAttempt, 1, 0, 0ms, 200ms},
        {failed(0, UpstreamFailure::kOverloaded, 503), Step::kDone}}},
      {"a 402 with another key's headroom retries the same host",
       {group("a", 1, 2)},
       {},
       100,
       {{{}, Step::kAttempt, 0, 0},
        {failed(0, UpstreamFailure::kClientError, 402), Step::kAttempt, 0, 0, 0ms, 100ms},
        {ok(0), Step::kDone}}},
      {"a 402 is retried: another key of the host, or another host",
       {one_key_per_host},
       {},
       100,
       {{{}, Step::kAttempt, 0, 0},
        {failed(0, UpstreamFailure::kClientError, 402), Step::kAttempt, 0, 1, 0ms, 100ms},
        {ok(1), Step::kDone}}},
      {"a 402 when every key of every host was refused again and again is answered, not retried",
       {all_refused},
       {},
       100,
       {{{}, Step::kAttempt, 0, 0}, {failed(0, UpstreamFailure::kClientError, 402), Step::kDone}}},
      {"a 402 while every key is out after one refusal each (a hiccup) is retried",
       {all_paced},
       {},
       100,
       {{{}, Step::kAttempt, 0, 0},
        {failed(0, UpstreamFailure::kClientError, 402), Step::kAttempt, 0, 1, 0ms, 100ms},
        {ok(1), Step::kDone}}},
      {"a non-stream answer cut short is continued elsewhere",
       {failover},
       {},
       100,
       {{{}, Step::kAttempt, 0, 0}, {cut, Step::kResume, 0, 1}, {ok(1), Step::kDone}}},
      {"a cut-short answer without failover is sent as it is",
       {group("a", 2)},
       {},
       100,
       {{{}, Step::kAttempt, 0, 0}, {cut, Step::kEndStream}}},
      {"a paced host is routed around", {paced}, {}, 100, {{{}, Step::kAttempt, 0, 1}, {ok(1), Step::kDone}}},
      {"every host paced: pacing is ignored",
       {all_paced},
       {},
       100,
       {{{}, Step::kAttempt, 0, 0}, {ok(0), Step::kDone}}},
      {"broken stream resumed on untried hosts up to max_resumes, then ended",
       {failover},
       {},
       100,
       {{{}, Step::kAttempt, 0, 0},
        {broken, Step::kResume, 0, 1},
        {resume1_failed, Step::kResume, 0, 2},
        {resume2_failed, Step::kEndStream}}},
      {"resumed stream completes",
       {failover},
       {},
       100,
       {{{}, Step::kAttempt, 0, 0}, {broken, Step::kResume, 0, 1}, {ok(1), Step::kDone}}},
      {"broken stream without failover ends",
       {group("a", 3)},
       {},
       100,
       {{{}, Step::kAttempt, 0, 0}, {broken, Step::kEndStream}}},
      {"broken stream that cannot be rebuilt ends",
       {failover},
       {},
       100,
       {{{}, Step::kAttempt, 0, 0}, {broken_unresumable, Step::kEndStream}}},
      {"no resumes for a request that may not (a coalescing leader)",
       {failover},
       {.may_resume = false},
       100,
       {{{}, Step::kAttempt, 0, 0}, {broken, Step::kEndStream}}},
      {"a resume needs the budget",
       {failover},
       {},
       0,
       {{{}, Step::kAttempt, 0, 0}, {broken, Step::kEndStream}}},
  };
  for (const Case& c : cases) {
    run(c);
  }
}

TEST(Planner, HedgeTakesAnUntriedHealthyHostWithinTheBudget) {
  FakeGroup g = group("h", 3);
  g.hedge = 200ms;
  g.available = {true, false, true};
  TableView view({g});
  std::mt19937_64 rng(1);
  Planner p(view, {}, rng);
  const Action a = p.start(kNow);
  ASSERT_TRUE(a.hedge_after);
  EXPECT_EQ(*a.hedge_after, 200ms);
  EXPECT_EQ(p.hedge(kNow), std::optional<std::size_t>(2));  // host 1 is ejected
  EXPECT_EQ(view.retry_slots, 99);                          // the hedge was admitted like a retry
  EXPECT_EQ(p.hedge(kNow), std::nullopt);                   // every healthy host tried
}

TEST(Planner, NoHedgeWithoutBudgetOrForACoalescingLeader) {
  FakeGroup g = group("h", 2);
  g.hedge = 100ms;
  TableView view({g});
  view.retry_slots = 0;
  std::mt19937_64 rng(1);
  Planner p(view, {}, rng);
  EXPECT_TRUE(p.start(kNow).hedge_after);
  EXPECT_EQ(p.hedge(kNow), std::nullopt);
  TableView view2({g});
  Planner leader(view2, {.may_hedge = false}, rng);
  EXPECT_FALSE(leader.start(kNow).hedge_after);
  FakeGroup single = group("s", 1);
  single.hedge = 100ms;
  TableView view3({single});
  Planner alone(view3, {}, rng);
  EXPECT_FALSE(alone.start(kNow).hedge_after);  // nowhere to hedge to
}

TEST(Planner, SameSeedSameDelays) {
  auto delays = [] {
    TableView view({group("a", 3, 3)});
    std::mt19937_64 rng(7);
    Planner p(view, {}, rng);
    std::vector<Ms> out;
    Action a = p.start(kNow);
    while (a.step == Step::kAttempt) {
      out.push_back(a.delay);
      a = p.next(failed(a.host, UpstreamFailure::kReset), kNow);
    }
    return out;
  };
  EXPECT_EQ(delays(), delays());
}

}  // namespace
}  // namespace sluice::routing
