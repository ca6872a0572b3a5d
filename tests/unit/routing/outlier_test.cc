#include "routing/outlier.h"

#include <gtest/gtest.h>

namespace sluice::routing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(RoutingOutlier, EjectsAfterConsecutiveFailuresOnly) {
  OutlierPolicy p{3, seconds(30), seconds(300)};
  OutlierDetector d;
  Clock::time_point t{seconds(1000)};
  EXPECT_FALSE(d.on_failure(p, t));
  EXPECT_FALSE(d.on_failure(p, t));
  d.on_success(t);  // breaks the run
  EXPECT_FALSE(d.on_failure(p, t));
  EXPECT_FALSE(d.on_failure(p, t));
  EXPECT_TRUE(d.on_failure(p, t));
  EXPECT_EQ(d.state(t), OutlierDetector::State::kEjected);
  EXPECT_FALSE(d.available(t + seconds(29)));
  EXPECT_EQ(d.state(t + seconds(30)), OutlierDetector::State::kProbation);
  EXPECT_TRUE(d.available(t + seconds(30)));
}

TEST(RoutingOutlier, ProbationFailureEjectsLongerUpToTheCap) {
  OutlierPolicy p{1, seconds(30), seconds(100)};
  OutlierDetector d;
  Clock::time_point t{seconds(1000)};
  ASSERT_TRUE(d.on_failure(p, t));
  EXPECT_EQ(d.ejected_until() - t, seconds(30));
  t = d.ejected_until();
  ASSERT_TRUE(d.on_failure(p, t));  // probe failed
  EXPECT_EQ(d.ejected_until() - t, seconds(60));
  t = d.ejected_until();
  ASSERT_TRUE(d.on_failure(p, t));
  EXPECT_EQ(d.ejected_until() - t, seconds(90));
  t = d.ejected_until();
  ASSERT_TRUE(d.on_failure(p, t));
  EXPECT_EQ(d.ejected_until() - t, seconds(100)) << "capped at max_ejection";
  EXPECT_EQ(d.times_ejected(), 4u);
}

TEST(RoutingOutlier, ProbationSuccessRestoresAndHealthyTimeForgives) {
  OutlierPolicy p{1, seconds(30), seconds(300)};
  OutlierDetector d;
  Clock::time_point t{seconds(1000)};
  ASSERT_TRUE(d.on_failure(p, t));
  t += seconds(30);
  d.on_success(t);
  EXPECT_EQ(d.state(t), OutlierDetector::State::kHealthy);
  // Late failures reported while ejected do not extend the ejection.
  OutlierDetector e;
  ASSERT_TRUE(e.on_failure(p, t));
  EXPECT_FALSE(e.on_failure(p, t + seconds(1)));
  EXPECT_EQ(e.ejected_until(), t + seconds(30));
  // After 2 healthy base periods the multiplier is back to 1.
  t += seconds(60);
  ASSERT_TRUE(d.on_failure(p, t));
  EXPECT_EQ(d.ejected_until() - t, seconds(30));
}

}  // namespace
}  // namespace sluice::routing
