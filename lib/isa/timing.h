#pragma once
// The machine model: how long an instruction holds its unit and when its
// operands are read and its result lands, from the target's figures alone
// (one row per opcode; docs/isa.md, "Timing"). The compiler schedules with
// it; the simulator checks Programs with timing code of its own.
//
// An instruction issued at cycle t reads its sources from t + read_latency
// until t + duration, and its result lands at t + duration + write_latency.
// A consumer may issue once its reads begin no earlier than the producer's
// result lands.

#include <cstdint>

#include "lib/isa/isa.h"
#include "lib/target/target.h"

namespace lpu::isa {

struct Timing {
  std::uint32_t duration = 0;
  std::uint32_t read_latency = 0;
  std::uint32_t write_latency = 0;
};

/// Element operations per element of each vector opcode (0 for others).
std::uint32_t vector_ops_per_element(Opcode op);

/// Vector-unit element operations an instruction performs.
std::uint64_t vector_ops(const Instruction& in);

/// Bytes operand `operand` (0..2 sources, 3 the destination) actually
/// moves: the operand's range, except where an opcode touches only part
/// of it (one table row per token, one cache row, strided rows, one K
/// segment of each activation row).
std::uint64_t touched_bytes(const Instruction& in, int operand);

/// The timing of `in` on chip `chip` of a system of `t` chips.
Timing instruction_timing(const target::Target& t, const Instruction& in, std::uint32_t chip);

/// Cycles an instruction holds the banks of its operands, from its issue:
/// its duration, except for a send, whose link reads its source into the
/// link's buffer at the bank's rate (the link then serialises it slowly).
std::uint32_t bank_hold_cycles(const target::Target& t, const Instruction& in, const Timing& tm);

/// Hops between two chips of the topology (0 for the same chip).
std::uint32_t hops_between(const target::Topology& topo, std::uint32_t a, std::uint32_t b);

/// Cycles a transfer of `bytes` over one link holds that link (serialisation
/// plus the share of periodic resynchronisation).
std::uint32_t link_occupancy(const target::Links& links, std::uint64_t bytes);

/// Cycles from a send's end until its data has surely landed at the far
/// chip: hops x hop latency plus a guard band of 3 sigma per hop.
std::uint32_t link_flight(const target::Links& links, std::uint32_t hops);

}  // namespace lpu::isa
