#include "cache/flight.h"

#include <gtest/gtest.h>

namespace sluice::cache {
namespace {

TEST(Flight, JoinersReplayThenFollowAndMayDropTheUsageChunk) {
  net::io_context ioc;
  Flight f(true);
  f.on_event("up", "data: {\"a\":1}\n\n", false);
  auto w = f.join(ioc.get_executor());
  EXPECT_TRUE(f.wanted());
  auto v = f.read(0, false);
  EXPECT_EQ(v.bytes, "data: {\"a\":1}\n\n");
  EXPECT_EQ(v.upstream, "up");
  f.on_event("up", "data: {\"choices\":[],\"usage\":{}}\n\n", true);
  f.on_event("up", "data: [DONE]\n\n", false);
  EXPECT_TRUE(w->ready());  // woken
  auto rest = f.read(v.next_event, false);
  EXPECT_EQ(rest.bytes, "data: [DONE]\n\n");
  EXPECT_EQ(f.read(v.next_event, true).bytes, "data: {\"choices\":[],\"usage\":{}}\n\ndata: [DONE]\n\n");
  EXPECT_TRUE(f.complete());
  f.finish(FlightState::kDone);
  EXPECT_EQ(f.read(0, true).state, FlightState::kDone);
  f.leave(w);
  EXPECT_FALSE(f.wanted());
}

TEST(Flight, DoneWithoutACompleteAnswerIsAbandoned) {
  Flight f(false);
  f.finish(FlightState::kDone);
  EXPECT_EQ(f.read(0, false).state, FlightState::kAbandoned);
  Flight g(false);
  g.on_body("up", "{}");
  g.finish(FlightState::kDone);
  auto v = g.read(0, false);
  EXPECT_EQ(v.state, FlightState::kDone);
  EXPECT_EQ(v.bytes, "{}");
}

TEST(FlightTable, OneLeaderPerKeyUntilRemoved) {
  FlightTable t;
  bool l1 = false, l2 = false, l3 = false;
  auto a = t.lead_or_join("k", false, l1);
  auto b = t.lead_or_join("k", false, l2);
  EXPECT_TRUE(l1);
  EXPECT_FALSE(l2);
  EXPECT_EQ(a, b);
  t.remove("k", a.get());
  auto c = t.lead_or_join("k", false, l3);
  EXPECT_TRUE(l3);
  EXPECT_NE(a, c);
}

}  // namespace
}  // namespace sluice::cache
