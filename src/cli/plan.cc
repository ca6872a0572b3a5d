// `sluice plan`: capacity and cost planner — API, self-hosted or hybrid — from a traffic profile or the
// ledger (docs/plan.md).
#include <fstream>
#include <iostream>

#include "cli/commands.h"
#include "plan/ledger_profile.h"
#include "plan/load.h"
#include "plan/report.h"

namespace sluice::cli {

namespace {
struct PlanArgs {
  std::string config_path;
  std::string ledger;
  std::string profile;
  bool json = false;
  std::string html;
};

void print(const plan::Diagnostics& d) {
  for (const auto& w : d.warnings) {
    std::cerr << "warning: " << w.to_string() << "\n";
  }
  for (const auto& e : d.errors) {
    std::cerr << e.to_string() << "\n";
  }
}

std::optional<plan::Profile> load_traffic(const PlanArgs& args, const plan::PlanConfig& cfg) {
  const std::string ledger = !args.ledger.empty() ? args.ledger : args.profile.empty() ? cfg.ledger_path : "";
  const std::string profile = !args.profile.empty() ? args.profile
                              : args.ledger.empty() ? cfg.profile_path
                                                    : "";
  if (!ledger.empty()) {
    std::string error;
    auto p = plan::read_ledger(ledger, cfg.pricing, cfg.ledger_deferrable_share, error);
    if (!p) {
      std::cerr << ledger << ": " << error << "\n";
    }
    return p;
  }
  if (profile.empty()) {
    std::cerr << "sluice plan: no traffic: give --from-ledger FILE or --profile FILE (or traffic.ledger / "
                 "traffic.profile in "
              << args.config_path << ")\n";
    return std::nullopt;
  }
  plan::Diagnostics diag;
  auto p = plan::load_profile(profile, cfg.pricing, diag);
  print(diag);
  return p;
}

int run_plan(const PlanArgs& args) {
  plan::Diagnostics diag;
  auto cfg = plan::load_plan(args.config_path, diag);
  print(diag);
  if (!cfg) {
    return 1;
  }
  auto profile = load_traffic(args, *cfg);
  if (!profile) {
    return 1;
  }
  if (profile->week_requests() <= 0) {
    std::cerr << "sluice plan: " << profile->source << " holds no requests to plan for\n";
    return 1;
  }
  const plan::PlanResult result = plan::make_plan(*cfg, *profile);
  if (!args.html.empty()) {
    std::ofstream out(args.html, std::ios::binary | std::ios::trunc);
    out << plan::format_html(*cfg, result);
    out.close();
    if (!out) {
      std::cerr << "sluice plan: cannot write " << args.html << "\n";
      return 1;
    }
  }
  std::cout << (args.json ? plan::format_json(*cfg, result) : plan::format_table(*cfg, result));
  return 0;
}
}  // namespace

void add_plan(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<PlanArgs>();
  auto* sub = app.add_subcommand(
      "plan", "Capacity and cost planner: API, self-hosted or hybrid, from the ledger or a traffic profile");
  sub->add_option("-c,--config", args->config_path, "plan.yaml: prices, engine, SLO (docs/plan.md)")
      ->required();
  auto* ledger = sub->add_option("--from-ledger", args->ledger, "Traffic from a sluice ledger (SQLite file)");
  auto* profile = sub->add_option("--profile", args->profile, "Traffic from a YAML profile");
  ledger->excludes(profile);
  sub->add_flag("--json", args->json, "Print the plan as JSON instead of the table");
  sub->add_option("--html", args->html, "Also write an HTML report with charts to FILE");
  sub->callback([args, &exit_code] { exit_code = run_plan(*args); });
}

}  // namespace sluice::cli
