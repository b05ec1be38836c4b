#include "runtime/sim/operand_ranges.h"

#include <algorithm>

namespace lpu::sim {

namespace {

void rows(std::vector<MemRange>& out, std::uint32_t chip, const isa::Operand& o, std::uint64_t base,
          std::uint64_t n, std::uint64_t row_bytes, std::uint64_t stride, bool write) {
  for (std::uint64_t r = 0; r < n; ++r) {
    out.push_back({chip, o.pool, base + r * stride, base + r * stride + row_bytes, write});
  }
}

// An operand's bytes: at every value its register can take, one window
// (an indexed operand does not touch the bytes between its windows).
void windows(std::vector<MemRange>& out, std::uint32_t chip, const isa::Operand& o,
             const RegisterTable& regs, bool write) {
  const program::IndexRegister* r = o.index_reg == 0 ? nullptr : regs.find(chip, o.index_reg);
  const std::uint32_t count = r == nullptr ? 1 : std::max<std::uint32_t>(1, r->count);
  const std::uint64_t stride = r == nullptr ? 0 : r->stride_bytes;
  for (std::uint32_t v = 0; v < count; ++v) {
    out.push_back({chip, o.pool, o.offset + v * stride, o.end() + v * stride, write});
  }
}

}  // namespace

void memory_ranges(const isa::Instruction& in, std::uint32_t chip, const RegisterTable& regs,
                   std::vector<MemRange>& out) {
  using isa::Opcode;
  const auto& p = in.p;
  for (std::size_t i = 0; i < 3; ++i) {
    const isa::Operand& o = in.src[i];
    if (!o.present()) continue;
    if (in.op == Opcode::kSend && i == 0) {
      rows(out, chip, o, o.offset, p[1], p[2], p[3], false);
      continue;
    }
    windows(out, chip, o, regs, false);
  }
  const isa::Operand& d = in.dst;
  if (!d.present()) return;
  switch (in.op) {
    case Opcode::kSend:
      rows(out, p[0], d, d.offset, p[1], p[2], p[4], true);
      return;
    case Opcode::kMatmul:
      if (in.flags & isa::kStore) rows(out, chip, d, d.offset, p[0], 4ull * p[3], 4ull * p[6], true);
      return;
    case Opcode::kEmbed:
      rows(out, chip, d, d.offset + 4ull * p[4], p[0], 4ull * p[1], 4ull * p[5], true);
      return;
    default:
      windows(out, chip, d, regs, true);
  }
}

RegisterRuns select_experts_registers(const isa::Instruction& in) {
  RegisterRuns r;
  r.expert_first = in.p[0];
  r.expert_count = in.p[1];
  r.combine_first = in.p[4];
  r.combine_count = in.p[5];
  return r;
}

}  // namespace lpu::sim
