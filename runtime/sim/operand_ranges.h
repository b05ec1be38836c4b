#pragma once
// Which bytes an instruction reads and writes, exactly: strided operands
// (a matrix pass's output rows, a send's rows, the embedding's rows) as one
// range per row; an indexed operand as one window per value its register
// can take (offset + v x stride, bytes long, v < count), so the checks hold
// whatever value the register takes at run time.

#include <cstdint>
#include <vector>

#include "lib/isa/isa.h"
#include "lib/program/program.h"
#include "lib/program/register_table.h"

namespace lpu::sim {

struct MemRange {
  std::uint32_t chip = 0;
  std::uint8_t pool = 0;
  std::uint64_t lo = 0;
  std::uint64_t hi = 0;
  bool write = false;
};

using program::RegisterTable;

inline std::uint64_t register_key(std::uint32_t chip, std::uint16_t reg) {
  return RegisterTable::key(chip, reg);
}

/// Appends the ranges `in` (on `chip`) reads and writes.
void memory_ranges(const isa::Instruction& in, std::uint32_t chip, const RegisterTable& regs,
                   std::vector<MemRange>& out);

/// The registers `select_experts` sets: (first, count) of its two runs.
struct RegisterRuns {
  std::uint32_t expert_first = 0, expert_count = 0;
  std::uint32_t combine_first = 0, combine_count = 0;
};
RegisterRuns select_experts_registers(const isa::Instruction& in);

}  // namespace lpu::sim
