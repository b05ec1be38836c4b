#include "runtime/device/sequence_runner.h"

namespace lpu::runtime {

Result<SequenceRunner> SequenceRunner::create(Device& device, const Program& program, std::uint32_t n_vocab,
                                              std::uint32_t slot) {
  if (slot >= program.slots()) {
    return invalid_argument("slot " + std::to_string(slot) + " (the Program has " + std::to_string(program.slots()) +
                            " slots)");
  }
  LPU_ASSIGN_OR_RETURN(BatchRunner b, BatchRunner::create(device, program, n_vocab));
  return SequenceRunner(std::move(b), slot);
}

}  // namespace lpu::runtime
