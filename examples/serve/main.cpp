// lpu-serve MODEL: an OpenAI-compatible server (the same as `lpu serve`).
#include <cstdio>

#include "examples/serve/serve_cli.h"

int main(int argc, char** argv) {
  lpu::serve::ServeOptions options;
  CLI::App app{"lpu-serve: an OpenAI-compatible HTTP server (completions, chat completions, streaming) on the lpu runtime", "lpu-serve"};
  lpu::serve::add_serve_options(app, options);
  CLI11_PARSE(app, argc, argv);
  const lpu::Status s = lpu::serve::run_server(options);
  if (!s.ok()) {
    std::fprintf(stderr, "lpu-serve: error: %s\n", s.message().c_str());
    return 1;
  }
  return 0;
}
