#include "runtime/sim/sim_error.h"

namespace lpu::sim {

std::string describe(const InstrRef& r, const isa::Instruction& in) {
  // Appended piece by piece (GCC 12 warns falsely on long "a" + b chains).
  std::string s = "chip ";
  s += std::to_string(r.chip);
  s += " [";
  s += std::to_string(r.index);
  s += "] #";
  s += std::to_string(in.seq);
  s += " @";
  s += std::to_string(in.issue_cycle);
  s += ' ';
  if (static_cast<unsigned>(in.op) < static_cast<unsigned>(isa::Opcode::kOpcodeCount)) {
    s += isa::opcode_name(in.op);
  } else {
    s += "op#";
    s += std::to_string(static_cast<unsigned>(in.op));
  }
  return s;
}

Status sim_error(const InstrRef& r, const isa::Instruction& in, const std::string& what) {
  std::string s = describe(r, in);
  s += ": ";
  s += what;
  return failed_precondition(std::move(s));
}

}  // namespace lpu::sim
