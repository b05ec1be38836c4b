#pragma once
// The simulator's errors: every one names the chip, the instruction (its
// index in the chip's stream and its place in program order), the cycle
// and the opcode, then what went wrong:
//   "chip 1 [17] #40 @1234 matmul: RAW: reads act.x+0x100..0x200 at 1230 before #38 (chip 1 [15] add) lands at 1240"

#include <cstdint>
#include <string>

#include "include/lpu/status.h"
#include "lib/isa/isa.h"

namespace lpu::sim {

/// Where an instruction sits: its chip and index in that chip's stream.
struct InstrRef {
  std::uint32_t chip = 0;
  std::uint32_t index = 0;
};

/// "chip C [I] #SEQ @CYCLE OPCODE"
std::string describe(const InstrRef& r, const isa::Instruction& in);

/// A failed_precondition Status: "<describe>: <what>".
Status sim_error(const InstrRef& r, const isa::Instruction& in, const std::string& what);

}  // namespace lpu::sim
