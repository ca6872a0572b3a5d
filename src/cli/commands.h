#pragma once
// Each subcommand registers itself on the CLI app; its callback stores the process exit code.
#include <CLI/CLI.hpp>

namespace sluice::cli {

void add_serve(CLI::App& app, int& exit_code);
void add_check(CLI::App& app, int& exit_code);
void add_sim(CLI::App& app, int& exit_code);
void add_bench(CLI::App& app, int& exit_code);
void add_plan(CLI::App& app, int& exit_code);

}  // namespace sluice::cli
