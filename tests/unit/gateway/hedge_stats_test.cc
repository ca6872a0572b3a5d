#include "gateway/hedge_stats.h"

#include <gtest/gtest.h>

namespace sluice::gateway {
namespace {

TEST(HedgeStats, CountsWonAndLostPerModelInTheRegistry) {
  HedgeStats s;
  s.record("hedge-test-model", true);
  s.record("hedge-test-model", false);
  s.record("hedge-test-model", false);
  const std::string text = telemetry::metrics().expose();
  EXPECT_NE(text.find("# TYPE sluice_hedges_total counter"), std::string::npos);
  EXPECT_NE(text.find("sluice_hedges_total{model=\"hedge-test-model\",result=\"won\"} 1\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("sluice_hedges_total{model=\"hedge-test-model\",result=\"lost\"} 2\n"), std::string::npos)
      << text;
}

}  // namespace
}  // namespace sluice::gateway
