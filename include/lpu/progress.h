#pragma once
// Progress of long work (hashing a model, compiling it, filling a device's
// SRAM), reported to a callback so that a command line can draw a bar and a
// server can log it.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace lpu {

struct Progress {
  /// What is being done: "hashing model", "compiling", "loading Program",
  /// "loading weights".
  std::string_view stage;
  /// Units done of `total` in this stage (bytes, variants or tensors);
  /// done == total ends the stage.
  std::uint64_t done = 0;
  std::uint64_t total = 0;
};

/// Called on the thread doing the work; it should return quickly.
using ProgressCallback = std::function<void(const Progress& progress)>;

/// Draws "label: stage [#####     ] 42%" on stderr, redrawn in place, when
/// stderr is a terminal; does nothing otherwise (logs and pipes stay clean).
ProgressCallback terminal_progress_bar(std::string label);

}  // namespace lpu
