#pragma once
// Where a step's inputs and outputs live in a Program's SRAM: the token ids
// and positions every chip that reads them holds (act.tokens,
// act.positions: one int32 per row), and the logits, split by columns over
// the chips of the last stage (act.logits rows of n_vocab floats; each chip
// holds the columns of its lm_head entries). What a runtime writes before
// a step and reads after it, on any backend.

#include <cstdint>
#include <vector>

#include "include/lpu/status.h"
#include "lib/program/program.h"

namespace lpu::runtime {

struct Region {
  std::uint32_t chip = 0;
  std::uint8_t pool = 0;
  std::uint64_t offset = 0;
  std::uint64_t bytes = 0;
};

struct LogitColumns {
  Region buffer;  ///< that chip's act.logits
  std::uint32_t n0 = 0, n1 = 0;
};

struct StepIo {
  std::vector<Region> tokens;
  std::vector<Region> positions;
  std::vector<LogitColumns> logits;
  std::uint32_t n_vocab = 0;
  /// Largest rows of any variant.
  std::uint32_t max_rows = 0;
};

/// Finds the regions in `p`'s layout; `lm_head` is the source tensor of
/// the output matrix (output.weight, or token_embd.weight when tied).
Result<StepIo> step_io(const program::Program& p, std::uint32_t n_vocab);

}  // namespace lpu::runtime
