#pragma once
// A Program's index registers by (chip, register): the stride and count
// an indexed operand's address depends on, for everything that resolves
// or bounds indexed addresses (the simulator, the CPU backend, the SRAM
// images).

#include <cstdint>
#include <unordered_map>

#include "lib/program/program.h"

namespace lpu::program {

class RegisterTable {
 public:
  explicit RegisterTable(const Program& p);

  /// The register, or null when the Program does not define it.
  const IndexRegister* find(std::uint32_t chip, std::uint16_t reg) const;
  /// Bytes past an operand's offset its register can move it:
  /// (count - 1) x stride, 0 for reg 0 or an undefined register.
  std::uint64_t reach(std::uint32_t chip, std::uint16_t reg) const;

  static std::uint64_t key(std::uint32_t chip, std::uint16_t reg) {
    return (std::uint64_t{chip} << 16) | reg;
  }

 private:
  std::unordered_map<std::uint64_t, IndexRegister> regs_;
};

}  // namespace lpu::program
