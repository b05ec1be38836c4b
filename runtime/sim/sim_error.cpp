#include "runtime/sim/sim_error.h"

namespace lpu::sim {

std::string describe(const InstrRef& r, const isa::Instruction& in) {
  std::string s = "chip " + std::to_string(r.chip) + " [" + std::to_string(r.index) + "] #" +
                   std::to_string(in.seq) + " @" + std::to_string(in.issue_cycle) + " ";
  s += static_cast<unsigned>(in.op) < static_cast<unsigned>(isa::Opcode::kOpcodeCount)
           ? std::string(isa::opcode_name(in.op))
           : "op#" + std::to_string(static_cast<unsigned>(in.op));
  return s;
}

Status sim_error(const InstrRef& r, const isa::Instruction& in, const std::string& what) {
  return failed_precondition(describe(r, in) + ": " + what);
}

}  // namespace lpu::sim
