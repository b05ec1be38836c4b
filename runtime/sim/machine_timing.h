#pragma once
// The simulator's own machine model: how long an instruction holds its
// unit, when its operands are read and when its result lands, computed from
// the target's figures with code of its own (docs/isa.md, "Timing"). The
// compiler schedules with lib/isa/timing.h; the simulator refuses a Program
// whose recorded durations differ from what this file computes, so the two
// are independent witnesses of one specification.

#include <cstdint>

#include "lib/isa/isa.h"
#include "lib/target/target.h"

namespace lpu::sim {

struct InstrTiming {
  std::uint64_t duration = 0;
  std::uint64_t read_latency = 0;
  std::uint64_t write_latency = 0;
  /// Cycles from issue the operands' banks are held (a send releases its
  /// source banks once the link has buffered them).
  std::uint64_t bank_hold = 0;
};

/// Element operations of a vector-unit instruction.
std::uint64_t vector_element_ops(const isa::Instruction& in);

/// Bytes operand `i` (0..2 sources, 3 the destination) streams.
std::uint64_t streamed_bytes(const isa::Instruction& in, int i);

/// Hops from chip a to chip b in the target's topology.
std::uint32_t hops(const target::Topology& topo, std::uint32_t a, std::uint32_t b);

/// The timing of `in` on `chip`.
InstrTiming timing_of(const target::Target& t, const isa::Instruction& in, std::uint32_t chip);

}  // namespace lpu::sim
