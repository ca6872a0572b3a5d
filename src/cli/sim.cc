// Placeholder until the simulator lands (issue 3).
#include "cli/commands.h"

namespace sluice::cli {
void add_sim(CLI::App& app, int& exit_code) {
  auto* sub = app.add_subcommand("sim", "DeepSeek 'server busy' simulator (not built yet)");
  sub->callback([&exit_code] { exit_code = 2; });
}
}  // namespace sluice::cli
