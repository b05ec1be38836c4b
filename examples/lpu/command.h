#pragma once
// The subcommands of the `lpu` tool. Each registers its options on a CLI11
// subcommand and sets `action`, which main() runs after parsing. Standard
// output carries only the command's result; logs and timings go to stderr.

#include <CLI/CLI.hpp>

#include <functional>

#include "include/lpu/status.h"

namespace lpu::cli {

using Action = std::function<Status()>;

void add_inspect_command(CLI::App& app, Action& action);
void add_tokenize_command(CLI::App& app, Action& action);
void add_synth_command(CLI::App& app, Action& action);
void add_convert_command(CLI::App& app, Action& action);
void add_run_command(CLI::App& app, Action& action);
void add_eval_command(CLI::App& app, Action& action);
void add_compile_command(CLI::App& app, Action& action);
void add_targets_command(CLI::App& app, Action& action);
void add_sim_command(CLI::App& app, Action& action);
void add_serve_command(CLI::App& app, Action& action);

/// Reads all of standard input, byte for byte (no trimming).
std::string read_stdin();

}  // namespace lpu::cli
