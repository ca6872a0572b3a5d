#include "sim/faults.h"

#include <gtest/gtest.h>

#include "sim/scenario.h"

namespace sluice::sim {
namespace {

TEST(SimFaults, ParsesEveryKey) {
  auto r = parse_fault_header(
      "status=503, retry-after=2s,reset-before-headers,reset-after=5,stall-after=3,truncate-after=4,"
      "malformed-after=2,keepalive=3,keepalive-interval=100ms,give-up,ttft=1500ms,itl=10,tokens=7");
  ASSERT_EQ(r.error, "");
  const auto& f = r.spec;
  EXPECT_EQ(f.status, 503u);
  EXPECT_EQ(f.retry_after->count(), 2000);
  EXPECT_TRUE(f.reset_before_headers);
  EXPECT_EQ(f.reset_after, 5);
  EXPECT_EQ(f.stall_after, 3);
  EXPECT_EQ(f.truncate_after, 4);
  EXPECT_EQ(f.malformed_after, 2);
  EXPECT_EQ(f.keepalives, 3);
  EXPECT_EQ(f.keepalive_interval->count(), 100);
  EXPECT_TRUE(f.give_up);
  EXPECT_EQ(f.ttft->count(), 1500);
  EXPECT_EQ(f.itl->count(), 10);
  EXPECT_EQ(f.tokens, 7);
}

TEST(SimFaults, EmptyHeaderIsNoFault) {
  auto r = parse_fault_header("");
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(r.spec.status, 0u);
  EXPECT_FALSE(r.spec.any_stream_fault());
}

TEST(SimFaults, RejectsBadInput) {
  const char* bad[] = {
      "bogus=1",            // unknown key
      "status=200",         // not an error status
      "status=abc",         // not a number
      "status",             // missing value
      "reset-after=-1",     // negative
      "reset-after=",       // empty value
      "stall-after=1.5",    // not an integer
      "ttft=fast",          // not a duration
      "retry-after=",       // empty duration
      "reset-before-headers=1",  // flag with a value
      "give-up=yes",        // flag with a value
      "reset-after=1,,stall-after=2",  // empty item
      ",",                  // only empty items
      "keepalive=99999999",  // absurd count
  };
  for (const char* h : bad) {
    auto r = parse_fault_header(h);
    EXPECT_NE(r.error, "") << h;
    EXPECT_EQ(r.error.rfind("invalid x-sim-fault header: ", 0), 0u) << r.error;
  }
}

TEST(SimFaults, RollIsDeterministicAndRespectsRates) {
  Phase p;
  p.errors = {{503, 0.3}};
  p.faults.truncate = 0.5;
  Rng a{1};
  Rng b{1};
  int errors = 0;
  int truncs = 0;
  for (int i = 0; i < 10'000; ++i) {
    auto fa = roll_faults(p, a);
    auto fb = roll_faults(p, b);
    EXPECT_EQ(fa.status, fb.status);
    EXPECT_EQ(fa.truncate_after, fb.truncate_after);
    errors += fa.status == 503;
    truncs += fa.truncate_after >= 0;
    if (fa.status == 503) {
      EXPECT_EQ(fa.truncate_after, -1);  // an error response has no stream to break
    }
  }
  EXPECT_NEAR(errors, 3000, 200);
  EXPECT_NEAR(truncs, 3500, 250);  // 0.5 of the 70 % that did not fail
}

TEST(SimFaults, HealthyPhaseRollsNothing) {
  Phase p;
  Rng r{3};
  for (int i = 0; i < 1000; ++i) {
    auto f = roll_faults(p, r);
    EXPECT_EQ(f.status, 0u);
    EXPECT_FALSE(f.reset_before_headers);
    EXPECT_FALSE(f.any_stream_fault());
    EXPECT_FALSE(f.ttft.has_value());
  }
}

}  // namespace
}  // namespace sluice::sim
