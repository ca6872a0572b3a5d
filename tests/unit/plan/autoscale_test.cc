// Autoscaling over the week with cooldowns and provision time, minute by minute.
#include "plan/autoscale.h"

#include <gtest/gtest.h>

namespace sluice::plan {
namespace {

std::array<int, kHoursPerWeek> flat(int n) {
  std::array<int, kHoursPerWeek> r{};
  r.fill(n);
  return r;
}

TEST(PlanAutoscale, ConstantNeedIsMetExactly) {
  const ScaleTrace t = simulate_autoscaling(flat(3), Autoscaling{});
  EXPECT_EQ(t.short_total, 0);
  EXPECT_EQ(t.max_billed, 3);
  EXPECT_EQ(t.min_billed, 3);
  EXPECT_NEAR(t.billed_replica_hours, 3 * 168, 1e-9);
}

TEST(PlanAutoscale, ScaleUpWaitsForProvisioningAndIsPaidMeanwhile) {
  auto need = flat(1);
  need[10] = 5;  // Monday 10:00-11:00
  Autoscaling a;
  a.provision_min = 5;
  a.scale_up_cooldown_min = 3;
  a.scale_down_cooldown_min = 1;  // scale down at once
  const ScaleTrace t = simulate_autoscaling(need, a);
  // Asked for at 10:00, serving from 10:05: five minutes short, but paid from 10:00.
  EXPECT_EQ(t.short_minutes[10], 5);
  EXPECT_EQ(t.short_total, 5);
  EXPECT_EQ(t.billed[600], 5);
  EXPECT_EQ(t.serving[600], 1);
  EXPECT_EQ(t.serving[605], 5);
  EXPECT_EQ(t.billed[660], 1);  // back down at 11:00
  EXPECT_NEAR(t.billed_replica_hours, 167 * 1 + 5, 1e-9);
  // Predictive scaling asks provision_min ahead: never short.
  a.predictive = true;
  const ScaleTrace p = simulate_autoscaling(need, a);
  EXPECT_EQ(p.short_total, 0);
  EXPECT_EQ(p.billed[595], 5);
  EXPECT_EQ(p.serving[600], 5);
}

TEST(PlanAutoscale, ScaleDownWaitsForTheStabilisationWindow) {
  auto need = flat(1);
  need[20] = 4;
  Autoscaling a;
  a.provision_min = 0;
  a.scale_down_cooldown_min = 15;
  const ScaleTrace t = simulate_autoscaling(need, a);
  EXPECT_EQ(t.short_total, 0);
  // The need falls at 21:00 (minute 1260); the highest need of the last 15 minutes stays 4 until 21:14.
  EXPECT_EQ(t.billed[1260 + 13], 4);
  EXPECT_EQ(t.billed[1260 + 14], 1);
  EXPECT_NEAR(t.billed_replica_hours, 167 + 4 + 3 * 14 / 60.0, 1e-9);
}

TEST(PlanAutoscale, ScaleUpCooldownDelaysTheSecondStep) {
  auto need = flat(1);
  need[10] = 2;
  need[11] = 6;
  Autoscaling a;
  a.provision_min = 0;
  a.scale_up_cooldown_min = 90;  // the 11:00 step may only be asked for at 11:30
  a.scale_down_cooldown_min = 1;
  const ScaleTrace t = simulate_autoscaling(need, a);
  EXPECT_EQ(t.short_minutes[10], 0);
  EXPECT_EQ(t.short_minutes[11], 30);
  EXPECT_EQ(t.serving[660 + 29], 2);
  EXPECT_EQ(t.serving[660 + 30], 6);
}

TEST(PlanAutoscale, WeekWrapsAround) {
  // Sunday 23:00 needs 3, Monday 00:00 needs 1: the warm-up week carries Sunday's fleet into Monday.
  auto need = flat(1);
  need[167] = 3;
  Autoscaling a;
  a.provision_min = 0;
  a.scale_down_cooldown_min = 10;
  const ScaleTrace t = simulate_autoscaling(need, a);
  EXPECT_EQ(t.billed[0], 3);
  EXPECT_EQ(t.billed[9], 1);
}

}  // namespace
}  // namespace sluice::plan
