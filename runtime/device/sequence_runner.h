#pragma once
// Runs one sequence, in one batch slot of a loaded Device, through a
// Program's step variants: a BatchRunner with one entry per call (see
// batch_runner.h for how steps are chosen).

#include <cstdint>
#include <span>
#include <vector>

#include "include/lpu/device.h"
#include "include/lpu/program.h"
#include "include/lpu/status.h"
#include "include/lpu/token.h"
#include "runtime/device/batch_runner.h"

namespace lpu::runtime {

class SequenceRunner {
 public:
  static Result<SequenceRunner> create(Device& device, const Program& program, std::uint32_t n_vocab,
                                       std::uint32_t slot = 0);

  /// Appends `tokens` at the sequence's position; returns n_vocab logits
  /// per token when all_logits (prefill variants that write only their
  /// last row's logits are then passed over for decode steps), else the
  /// last token's.
  Result<std::vector<float>> forward(std::span<const TokenId> tokens, bool all_logits) {
    const BatchRunner::Entry e{slot_, tokens, all_logits};
    LPU_ASSIGN_OR_RETURN(std::span<const float> l, batch_.forward(std::span(&e, 1)));
    return std::vector<float>(l.begin(), l.end());
  }

  int position() const { return batch_.position(slot_); }
  /// Counters of every step run so far (prefill chunks included).
  const std::vector<StepCounters>& steps() const { return batch_.steps(); }

 private:
  SequenceRunner(BatchRunner b, std::uint32_t slot) : batch_(std::move(b)), slot_(slot) {}

  BatchRunner batch_;
  std::uint32_t slot_ = 0;
};

}  // namespace lpu::runtime
