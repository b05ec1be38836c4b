#pragma once
// The options of `lpu serve` and `lpu-serve`, registered on a CLI11 app.

#include <CLI/CLI.hpp>

#include "examples/serve/server.h"

namespace lpu::serve {

void add_serve_options(CLI::App& app, ServeOptions& options);

}  // namespace lpu::serve
