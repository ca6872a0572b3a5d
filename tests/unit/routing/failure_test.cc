#include "routing/failure.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace sluice::routing {
namespace {

TEST(UpstreamFailure, EveryValueHasADistinctNameAndAnErrorStatus) {
  std::set<std::string_view> names;
  for (int i = 1; i < static_cast<int>(UpstreamFailure::kCount); ++i) {
    const auto& info = describe(static_cast<UpstreamFailure>(i));
    EXPECT_TRUE(names.insert(info.name).second) << info.name;
    EXPECT_GE(info.status, 400u) << info.name;
    EXPECT_FALSE(info.message.empty()) << info.name;
    EXPECT_FALSE(info.type.empty()) << info.name;
  }
  EXPECT_EQ(to_string(UpstreamFailure::kNone), "none");
}

TEST(UpstreamFailure, StatusMapping) {
  EXPECT_EQ(describe(UpstreamFailure::kConnectFailed).status, 502u);
  EXPECT_EQ(describe(UpstreamFailure::kConnectTimeout).status, 504u);
  EXPECT_EQ(describe(UpstreamFailure::kFirstTokenTimeout).status, 504u);
  EXPECT_EQ(describe(UpstreamFailure::kIdleTimeout).status, 504u);
  EXPECT_EQ(describe(UpstreamFailure::kTotalTimeout).status, 504u);
  EXPECT_EQ(describe(UpstreamFailure::kReset).status, 502u);
  EXPECT_EQ(describe(UpstreamFailure::kEmptyResponse).status, 502u);
  EXPECT_EQ(describe(UpstreamFailure::kProtocolError).status, 502u);
  EXPECT_EQ(describe(UpstreamFailure::kRateLimited).status, 429u);
  EXPECT_EQ(describe(UpstreamFailure::kOverloaded).status, 503u);
  EXPECT_EQ(describe(UpstreamFailure::kAuthRejected).status, 502u);
  EXPECT_EQ(describe(UpstreamFailure::kEmptyResponse).name, "upstream_empty_response");
}

TEST(UpstreamFailure, OutOfRangeFallsBackToNone) {
  EXPECT_EQ(describe(static_cast<UpstreamFailure>(200)).name, "none");
}

TEST(UpstreamFailure, ClassifyStatus) {
  EXPECT_EQ(classify_status(200), UpstreamFailure::kNone);
  EXPECT_EQ(classify_status(400), UpstreamFailure::kClientError);
  EXPECT_EQ(classify_status(401), UpstreamFailure::kAuthRejected);
  EXPECT_EQ(classify_status(402), UpstreamFailure::kClientError);
  EXPECT_EQ(classify_status(403), UpstreamFailure::kAuthRejected);
  EXPECT_EQ(classify_status(422), UpstreamFailure::kClientError);
  EXPECT_EQ(classify_status(429), UpstreamFailure::kRateLimited);
  EXPECT_EQ(classify_status(500), UpstreamFailure::kServerError);
  EXPECT_EQ(classify_status(502), UpstreamFailure::kServerError);
  EXPECT_EQ(classify_status(503), UpstreamFailure::kOverloaded);
}

}  // namespace
}  // namespace sluice::routing
