// The dashboard's spend today, read from the cost counter.
#include "gateway/admin_api.h"

#include <gtest/gtest.h>

#include "telemetry/metrics.h"

namespace sluice::gateway {
namespace {

// The day's baseline is taken at the first sample; what the counter gains after it is the spend. The family
// is the one the gateway registers (same name and labels), in the process-wide registry.
TEST(GatewayAdminApi, DailySpendFollowsTheCostCounterAcrossLabelSets) {
  auto& cost =
      telemetry::metrics().counter("sluice_cost_usd_total", "Upstream cost of answers, from the price table",
                                   {"key", "model", "upstream"});
  std::string since;
  auto before = sample_daily_spend(&since);
  ASSERT_TRUE(before);
  EXPECT_FALSE(since.empty());
  cost.with({"a", "m", "u"}).inc(1.25);
  cost.with({"b", "m", "u"}).inc(0.5);
  auto after = sample_daily_spend();
  ASSERT_TRUE(after);
  EXPECT_NEAR(*after - *before, 1.75, 1e-12);
}

}  // namespace
}  // namespace sluice::gateway
