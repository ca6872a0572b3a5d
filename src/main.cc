// sluice: an OpenAI/DeepSeek-compatible gateway that keeps LLM traffic flowing when providers are busy.
#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "sluice/version.h"

int main(int argc, char** argv) {
  CLI::App app{"sluice — a gateway that keeps LLM traffic flowing when the provider says \"server busy\""};
  app.set_version_flag("--version", std::string("sluice ") + sluice::kVersion);
  app.require_subcommand(1);
  int exit_code = 0;
  sluice::cli::add_serve(app, exit_code);
  sluice::cli::add_check(app, exit_code);
  sluice::cli::add_sim(app, exit_code);
  sluice::cli::add_bench(app, exit_code);
  sluice::cli::add_plan(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return exit_code;
}
