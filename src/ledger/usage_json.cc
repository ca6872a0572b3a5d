// /admin/usage's answer, assembled the same way whichever sink ran the query.
#include <fmt/format.h>

#include <array>
#include <cstdlib>

#include "common/json.h"
#include "ledger/ledger.h"

namespace sluice::ledger {

// Billed tokens count only answers that came from an upstream; cached and coalesced ones are savings.
const std::string_view kUsageAggregates =
    "sum(requests), sum(CASE WHEN source='upstream' THEN requests ELSE 0 END),"
    "sum(CASE WHEN source='cache' THEN requests ELSE 0 END),"
    "sum(CASE WHEN source='coalesced' THEN requests ELSE 0 END),"
    "sum(CASE WHEN source='stale' THEN requests ELSE 0 END),"
    "sum(CASE WHEN source='upstream' THEN prompt_tokens ELSE 0 END),"
    "sum(CASE WHEN source='upstream' THEN completion_tokens ELSE 0 END),"
    "sum(CASE WHEN source='upstream' THEN cache_hit_tokens ELSE 0 END),"
    "sum(CASE WHEN source='upstream' THEN cache_miss_tokens ELSE 0 END),"
    "sum(CASE WHEN source='upstream' THEN reasoning_tokens ELSE 0 END),"
    "coalesce(sum(cost_usd), 0), coalesce(sum(savings_usd), 0)";

namespace {
constexpr std::array<std::string_view, kUsageAggregateCount> kAggregateNames{"requests",
                                                                             "upstream_requests",
                                                                             "cache_hits",
                                                                             "coalesced",
                                                                             "stale",
                                                                             "prompt_tokens",
                                                                             "completion_tokens",
                                                                             "prompt_cache_hit_tokens",
                                                                             "prompt_cache_miss_tokens",
                                                                             "reasoning_tokens",
                                                                             "cost_usd",
                                                                             "savings_usd"};

// One result row as a JSON object: the group fields, then the aggregates (money with 9 decimals).
std::string row_json(const UsageQuery& q, const std::vector<std::string>& v) {
  std::string out = "{";
  const std::size_t ng = q.group_by.size();
  for (std::size_t i = 0; i < ng + kUsageAggregateCount && i < v.size(); ++i) {
    out += i ? "," : "";
    append_json_string(out, i < ng ? std::string_view(q.group_by[i]) : kAggregateNames[i - ng]);
    out += ':';
    if (i < ng) {
      append_json_string(out, v[i]);
    } else if (i - ng >= 10) {
      out += fmt::format("{:.9f}", v[i].empty() ? 0.0 : std::strtod(v[i].c_str(), nullptr));
    } else {
      out += v[i].empty() ? "0" : v[i];
    }
  }
  out += '}';
  return out;
}
}  // namespace

std::string usage_json(const UsageQuery& q, const std::vector<std::vector<std::string>>& values) {
  std::string out = fmt::format(R"({{"from_ms":{},"to_ms":{},"group_by":[)", q.from_ms, q.to_ms);
  for (std::size_t i = 0; i < q.group_by.size(); ++i) {
    out += i ? "," : "";
    append_json_string(out, q.group_by[i]);
  }
  out += "],";
  if (q.group_by.empty()) {
    return out + R"("totals":)" + (values.empty() ? row_json(q, {}) : row_json(q, values.front())) + "}";
  }
  out += R"("groups":[)";
  for (std::size_t i = 0; i < values.size(); ++i) {
    out += i ? "," : "";
    out += row_json(q, values[i]);
  }
  return out + "]}";
}

}  // namespace sluice::ledger
