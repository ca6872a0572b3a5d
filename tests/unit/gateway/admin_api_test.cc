// Summing samples out of Prometheus text (the dashboard's daily spend).
#include "gateway/admin_api.h"

#include <gtest/gtest.h>

namespace sluice::gateway {
namespace {

TEST(GatewayAdminApi, SumSamplesAddsEveryLabelSetOfOneMetric) {
  const std::string text =
      "# HELP sluice_cost_usd_total Spend.\n"
      "# TYPE sluice_cost_usd_total counter\n"
      "sluice_cost_usd_total{key=\"a\",model=\"m\",upstream=\"u\"} 1.25\n"
      "sluice_cost_usd_total{key=\"b}\",model=\"m\",upstream=\"u\"} 0.5\n"
      "sluice_cost_usd_total_other 100\n"
      "sluice_cost_usd_totalx{a=\"b\"} 7\n";
  auto total = sum_samples(text, "sluice_cost_usd_total");
  ASSERT_TRUE(total);
  EXPECT_DOUBLE_EQ(*total, 1.75);
  EXPECT_DOUBLE_EQ(*sum_samples("plain 3\nplain 4", "plain"), 7.0);
  EXPECT_FALSE(sum_samples(text, "sluice_missing"));
  EXPECT_FALSE(sum_samples("broken{ 1\n", "broken"));
}

}  // namespace
}  // namespace sluice::gateway
