#pragma once
// Finds (or makes) the model file a golden was computed from, and checks by
// SHA-256 that it is the file llama.cpp evaluated, or derived from the same
// source.

#include <filesystem>
#include <string>

#include "include/lpu/status.h"
#include "tests/golden/golden_file.h"

namespace lpu::testing {

/// Where a golden's model is.
struct GoldenModelPath {
  /// The model to load; empty when an input is absent (see `missing`).
  std::filesystem::path path;
  /// An input that is absent (the test skips, or fails under CI=true).
  std::filesystem::path missing;
  /// How `path` relates to the file llama.cpp evaluated, for the log.
  std::string provenance;
};

/// Locates the model of `golden`:
///  - shared:FILE  ../shared/models/FILE, whose SHA-256 must match;
///  - cache:FILE   model_dir()/FILE; when absent it is rewritten to F32 from
///                 the recorded source file. It must be llama.cpp's file (same
///                 SHA-256) or come from a source with the recorded SHA-256;
///  - synth:PRESET regenerated into temp_dir() by the synthetic generator,
///                 which must reproduce llama.cpp's input byte for byte.
/// Errors: a file whose hash does not match, a failed rewrite or synthesis.
Result<GoldenModelPath> locate_golden_model(const GoldenFile& golden);

}  // namespace lpu::testing
