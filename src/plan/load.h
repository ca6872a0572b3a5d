#pragma once
// plan.yaml, engine files and traffic profiles → typed values, with every problem reported as
// "file:line: key.path: message" (the same Diagnostic as `sluice check`). The only plan code that sees YAML.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config/loader.h"
#include "plan/plan_config.h"
#include "plan/profile.h"

namespace sluice::plan {

struct Diagnostics {
  std::vector<config::Diagnostic> errors;
  std::vector<config::Diagnostic> warnings;
  bool ok() const { return errors.empty(); }
};

// plan.yaml, and the engine file it names. Relative paths in it are relative to its folder.
std::optional<PlanConfig> load_plan(const std::string& path, Diagnostics& diag);
std::optional<PlanConfig> load_plan_string(const std::string& yaml, const std::string& path,
                                           Diagnostics& diag);

// An engine file as `sluice bench --engine-out` writes it.
std::optional<Engine> load_engine_file(const std::string& path, Diagnostics& diag);

// A YAML traffic profile (docs/plan.md): requests/s per hour of the week and token sizes per model. Prices
// are needed to split each hour's tokens into peak and off-peak; a model without a price is an error.
std::optional<Profile> load_profile(const std::string& path,
                                    const std::map<std::string, config::Price>& pricing, Diagnostics& diag);
std::optional<Profile> load_profile_string(const std::string& yaml, const std::string& path,
                                           const std::map<std::string, config::Price>& pricing,
                                           Diagnostics& diag);

}  // namespace sluice::plan
