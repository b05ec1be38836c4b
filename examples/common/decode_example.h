#pragma once
// What examples/llama_decode and examples/mixtral_decode share: their
// options, and a run that streams one request's text through an Engine and
// ends with the figures. Public headers only.

#include <string>

namespace lpu::examples {

/// Parses the command line and runs; `default_preset` is the synthetic
/// model ("tiny-dense", "tiny-moe") used when no model path is given.
int decode_main(int argc, char** argv, const std::string& name, const std::string& default_preset);

}  // namespace lpu::examples
