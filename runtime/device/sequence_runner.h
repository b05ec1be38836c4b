#pragma once
// Runs one sequence (batch slot 0) through a loaded Device, step by step:
// whole prefill chunks through the prefill variant (register r1 = the
// slot; a chunk of one row is left to the decode variants), the rest one token per decode step at the smallest context bucket
// that holds it (the other slots' rows carry token 0 at position 0 of their
// own, unused, caches). Token ids and positions are written to every chip
// that reads them, and logits read back from the chips that hold their
// columns. The runtime's engine (sessions, continuous batching) builds on
// the same step buffers.

#include <cstdint>
#include <span>
#include <vector>

#include "include/lpu/device.h"
#include "include/lpu/program.h"
#include "include/lpu/status.h"
#include "include/lpu/token.h"
#include "runtime/device/step_io.h"

namespace lpu::runtime {

class SequenceRunner {
 public:
  static Result<SequenceRunner> create(Device& device, const Program& program, std::uint32_t n_vocab,
                                       std::uint32_t slot = 0);

  /// Appends `tokens` at the sequence's position; returns n_vocab logits
  /// per token when all_logits (prefill variants that write only their
  /// last row's logits are then passed over for decode steps), else the
  /// last token's.
  Result<std::vector<float>> forward(std::span<const TokenId> tokens, bool all_logits);

  int position() const { return position_; }
  /// Counters of every step run so far (prefill chunks included).
  const std::vector<StepCounters>& steps() const { return steps_; }

 private:
  SequenceRunner(Device& d, const Program& p, StepIo io, std::uint32_t slot)
      : device_(&d), program_(p), io_(std::move(io)), slot_(slot) {}
  Status write_rows(const std::vector<Region>& where, const std::vector<std::int32_t>& values);
  Result<std::vector<float>> logits(std::size_t first_row, std::size_t rows);

  Device* device_;
  Program program_;
  StepIo io_;
  std::uint32_t slot_ = 0;
  int position_ = 0;
  std::vector<StepCounters> steps_;
};

}  // namespace lpu::runtime
