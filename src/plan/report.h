#pragma once
// The plan as a terminal table, a JSON document (--json) and a self-contained HTML page with inline SVG
// charts (--html): cost against utilisation, load against capacity across the week, cost per option.
#include <string>

#include "plan/plan_config.h"
#include "plan/planner.h"

namespace sluice::plan {

std::string format_table(const PlanConfig& cfg, const PlanResult& r);
std::string format_json(const PlanConfig& cfg, const PlanResult& r);
std::string format_html(const PlanConfig& cfg, const PlanResult& r);

// "5,391" — thousands separated, no decimals.
std::string thousands(double v);
// "$1,234" (whole dollars) or "$7.42" (below 100).
std::string usd(double v);
// How a crossing reads: "owned is cheaper than on demand above 61.5 % (5,391 h/year, 224.6 days of full
// use)" or "owned is cheaper than reserved at any utilisation".
std::string crossing_text(const Crossing& c);

}  // namespace sluice::plan
