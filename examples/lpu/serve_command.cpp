// lpu serve MODEL: the OpenAI-compatible server of examples/serve.
#include <memory>

#include "examples/lpu/command.h"
#include "examples/serve/serve_cli.h"

namespace lpu::cli {

void add_serve_command(CLI::App& app, Action& action) {
  auto o = std::make_shared<serve::ServeOptions>();
  CLI::App* cmd = app.add_subcommand("serve", "Serve a model over an OpenAI-compatible HTTP API (completions, chat, streaming, /metrics)");
  serve::add_serve_options(*cmd, *o);
  cmd->callback([&action, o] { action = [o] { return serve::run_server(*o); }; });
}

}  // namespace lpu::cli
