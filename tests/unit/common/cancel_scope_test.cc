// A request's cancellation: hooks run once per kind, late registrations run at once, hooks may unregister
// while a cancel runs, and a hook's lifetime is its registration.
#include "common/cancel_scope.h"

#include <gtest/gtest.h>

#include <optional>

namespace sluice {
namespace {

TEST(CancelScope, RunsHooksOfTheKindsAskedOnce) {
  CancelScope s;
  int waits = 0;
  int upstreams = 0;
  auto w = [&] { ++waits; };
  auto u = [&] { ++upstreams; };
  const CancelScope::Hook hw(s, CancelScope::kWait, w);
  const CancelScope::Hook hu(s, CancelScope::kUpstream, u);
  s.cancel(CancelScope::kWait);
  EXPECT_EQ(waits, 1);
  EXPECT_EQ(upstreams, 0);
  EXPECT_TRUE(s.cancelled(CancelScope::kWait));
  EXPECT_FALSE(s.cancelled(CancelScope::kUpstream));
  s.cancel();
  EXPECT_EQ(waits, 1);  // not twice for the same kind
  EXPECT_EQ(upstreams, 1);
}

TEST(CancelScope, ARegistrationOnACancelledScopeRunsAtOnce) {
  CancelScope s;
  s.cancel(CancelScope::kUpstream);
  int n = 0;
  auto f = [&] { ++n; };
  const CancelScope::Hook late(s, CancelScope::kUpstream, f);
  EXPECT_EQ(n, 1);
  const CancelScope::Hook other(s, CancelScope::kWait, f);
  EXPECT_EQ(n, 1);  // kWait was not cancelled
}

TEST(CancelScope, AnUnregisteredHookNeverRuns) {
  CancelScope s;
  int n = 0;
  auto f = [&] { ++n; };
  { const CancelScope::Hook h(s, CancelScope::kWait, f); }
  s.cancel();
  EXPECT_EQ(n, 0);
}

TEST(CancelScope, HooksMayUnregisterOthersWhileACancelRuns) {
  CancelScope s;
  std::optional<CancelScope::Hook> second;
  std::optional<CancelScope::Hook> third;
  int ran = 0;
  auto drop = [&] {
    ++ran;
    second.reset();
    third.reset();
  };
  auto count = [&] { ++ran; };
  third.emplace(s, CancelScope::kWait, count);
  second.emplace(s, CancelScope::kWait, count);
  const CancelScope::Hook first(s, CancelScope::kWait, drop);  // newest: runs first
  s.cancel();
  EXPECT_EQ(ran, 1);
}

TEST(CancelScope, ChildScopesCancelThroughALinkingHook) {
  CancelScope request;
  CancelScope leg;
  int closed = 0;
  auto close = [&] { ++closed; };
  auto cancel_leg = [&] { leg.cancel(); };
  const CancelScope::Hook in_leg(leg, CancelScope::kUpstream, close);
  const CancelScope::Hook link(request, CancelScope::kUpstream, cancel_leg);
  request.cancel(CancelScope::kWait);
  EXPECT_EQ(closed, 0);
  request.cancel();
  EXPECT_EQ(closed, 1);
}

}  // namespace
}  // namespace sluice
