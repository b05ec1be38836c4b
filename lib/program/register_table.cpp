#include "lib/program/register_table.h"

namespace lpu::program {

RegisterTable::RegisterTable(const Program& p) {
  for (const IndexRegister& r : p.registers) regs_[key(r.chip, r.reg)] = r;
}

const IndexRegister* RegisterTable::find(std::uint32_t chip, std::uint16_t reg) const {
  const auto it = regs_.find(key(chip, reg));
  return it == regs_.end() ? nullptr : &it->second;
}

std::uint64_t RegisterTable::reach(std::uint32_t chip, std::uint16_t reg) const {
  if (reg == 0) return 0;
  const IndexRegister* r = find(chip, reg);
  return r == nullptr || r->count == 0 ? 0 : (std::uint64_t{r->count} - 1) * r->stride_bytes;
}

}  // namespace lpu::program
