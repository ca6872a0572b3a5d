// A request's charge: priced by its upstream model, counted as cost (upstream) or savings (cache, coalesced,
// stale) for its key, model and upstream, and stored in the ledger.
#include "ledger/accounting.h"

#include <gtest/gtest.h>

#include "config/loader.h"

namespace sluice::ledger {
namespace {

double sample(const std::string& text, const std::string& series) {
  const auto at = text.find(series + " ");
  return at == std::string::npos ? -1 : std::stod(text.substr(at + series.size() + 1));
}

TEST(Accounting, PricesUsageIntoCostAndSavingsPerKeyModelAndUpstream) {
  auto r = config::load_string(R"(
upstreams:
  acct_u: {base_url: "http://127.0.0.1:1"}
models:
  acct_m: {upstream: acct_u, model: acct-upstream-model}
keys:
  - {name: acct_team, secret_sha256: "0000000000000000000000000000000000000000000000000000000000000000"}
ledger: {enabled: false}
pricing:
  acct-upstream-model: {input_cache_hit: 0, input_cache_miss: 1, output: 2}
)",
                               "t.yaml", [](const std::string&) { return std::nullopt; });
  ASSERT_TRUE(r.config) << (r.errors.empty() ? "" : r.errors[0].message);
  std::string error;
  auto acct = Accounting::make(*r.config, error);
  ASSERT_TRUE(acct) << error;
  EXPECT_EQ(acct->ledger(), nullptr);
  const std::string model_id = "acct-upstream-model";
  std::optional<openai::Usage> usage = openai::Usage{};
  usage->prompt_tokens = 3'000'000;
  usage->prompt_cache_miss_tokens = 3'000'000;
  usage->completion_tokens = 2'000'000;
  for (const std::string_view source : {"upstream", "cache"}) {
    acct->record({.source = source,
                  .key = "acct_team",
                  .model = "acct_m",
                  .upstream = "acct_u",
                  .upstream_model = model_id,
                  .status = 200,
                  .usage = usage});
  }
  const std::string text = telemetry::metrics().expose();
  const std::string labels = "{key=\"acct_team\",model=\"acct_m\",upstream=\"acct_u\"}";
  EXPECT_DOUBLE_EQ(sample(text, "sluice_cost_usd_total" + labels), 3 * 1.0 + 2 * 2.0);
  EXPECT_DOUBLE_EQ(sample(text, "sluice_savings_usd_total" + labels), 3 * 1.0 + 2 * 2.0);
}

}  // namespace
}  // namespace sluice::ledger
