// lpu: the command-line tool. `lpu --help` lists the subcommands.
#include <cstdio>
#include <iostream>

#include "examples/lpu/command.h"

int main(int argc, char** argv) {
  CLI::App app{"lpu: deterministic LPU inference runtime: inspect, tokenize, synthesise, run, evaluate and compile GGUF models"};
  app.require_subcommand(1);
  lpu::cli::Action action;
  lpu::cli::add_inspect_command(app, action);
  lpu::cli::add_tokenize_command(app, action);
  lpu::cli::add_synth_command(app, action);
  lpu::cli::add_convert_command(app, action);
  lpu::cli::add_run_command(app, action);
  lpu::cli::add_eval_command(app, action);
  lpu::cli::add_compile_command(app, action);
  lpu::cli::add_targets_command(app, action);
  lpu::cli::add_sim_command(app, action);
  lpu::cli::add_serve_command(app, action);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // One line, exit status 1, as for every other failure.
    std::fprintf(stderr, "lpu: error: %s (see lpu --help)\n", e.what());
    return 1;
  }
  const lpu::Status status = action();
  std::fflush(stdout);
  if (!status.ok()) {
    std::fprintf(stderr, "lpu: error: %s\n", status.message().c_str());
    return 1;
  }
  return 0;
}
