#include "runtime/sim/machine_timing.h"

#include <algorithm>
#include <cmath>

namespace lpu::sim {
namespace {

using isa::Opcode;
using isa::Unit;

std::uint64_t ceil_div(std::uint64_t a, std::uint64_t b) { return b == 0 ? 0 : (a + b - 1) / b; }

const isa::Operand& operand(const isa::Instruction& in, int i) {
  return i < 3 ? in.src[static_cast<std::size_t>(i)] : in.dst;
}

// The unit kind whose distance an operand travels.
target::UnitKind travel_kind(Unit u) {
  switch (u) {
    case Unit::kMatrix:
    case Unit::kWeightLoad: return target::UnitKind::kMatrix;
    case Unit::kVector: return target::UnitKind::kVector;
    case Unit::kLink: return target::UnitKind::kLink;
    default: return target::UnitKind::kSwitch;
  }
}

std::uint64_t pipeline_latency(const target::Target& t, Unit u) {
  switch (u) {
    case Unit::kMatrix: return t.matrix.pipeline_latency;
    case Unit::kVector: return t.vector.pipeline_latency;
    case Unit::kSwitch: return t.switch_unit.pipeline_latency;
    default: return 0;
  }
}

// Cycles the operands stream at one bank's rate of their pools.
std::uint64_t stream_cycles(const target::Target& t, const isa::Instruction& in) {
  std::uint64_t s = 0;
  for (int i = 0; i < 4; ++i) {
    const isa::Operand& o = operand(in, i);
    if (!o.present() || o.pool >= t.pools.size()) continue;
    const target::Pool& p = t.pools[o.pool];
    const std::uint64_t rate = i < 3 ? p.bank_read_bytes_per_cycle : p.bank_write_bytes_per_cycle;
    s = std::max(s, ceil_div(streamed_bytes(in, i), rate));
  }
  return s;
}

std::uint64_t link_cycles(const target::Links& l, std::uint64_t bytes) {
  const auto s = static_cast<std::uint64_t>(std::ceil(static_cast<double>(bytes) / l.bytes_per_cycle));
  const std::uint64_t resync =
      l.resync_period_cycles == 0 ? 0 : ceil_div(s * l.resync_cycles, l.resync_period_cycles);
  return std::max<std::uint64_t>(1, s + resync);
}

std::uint64_t duration_of(const target::Target& t, const isa::Instruction& in) {
  const auto& p = in.p;
  const std::uint64_t s = stream_cycles(t, in);
  switch (in.op) {
    case Opcode::kNop: return p[0];
    case Opcode::kRecv:
    case Opcode::kBarrier: return 0;
    case Opcode::kEmbed:
      return std::max(s, ceil_div(std::uint64_t{p[0]} * p[3], t.switch_unit.bytes_per_cycle));
    case Opcode::kCopy: return std::max(s, ceil_div(in.src[0].bytes, t.switch_unit.bytes_per_cycle));
    case Opcode::kLoadWeights:
      return std::max(s, ceil_div(in.src[0].bytes, t.matrix.weight_load_bytes_per_cycle));
    case Opcode::kMatmul:
      return std::max(s, ceil_div(std::uint64_t{p[0]} * p[2] * p[3], t.matrix.macs_per_cycle));
    case Opcode::kSend: return link_cycles(t.links, std::uint64_t{p[1]} * p[2]);
    default:
      return std::max(s, ceil_div(vector_element_ops(in),
                                  std::uint64_t{t.vector.lanes} * t.vector.alus_per_lane));
  }
}

}  // namespace

std::uint64_t vector_element_ops(const isa::Instruction& in) {
  const std::uint64_t p0 = in.p[0], p1 = in.p[1], p2 = in.p[2], p3 = in.p[3];
  switch (in.op) {
    case Opcode::kRmsNorm: return 4 * p0 * p1;
    case Opcode::kAdd: return p0;
    case Opcode::kSiluMul: return 6 * p0 * p1;
    case Opcode::kQuantize: return 4 * p0 * p1;
    case Opcode::kRopeAngles: return 12 * p0 * p1 / 2;
    case Opcode::kRope: return 6 * p0 * p1 * p3;
    case Opcode::kKvAppend: return 4 * p0 * p2;
    case Opcode::kSoftmax: return 6 * p0 * p1;
    case Opcode::kAttentionF16: return 4 * p0 * (p2 - std::min(p1, p2)) * p3;
    case Opcode::kRouterTopK: return 2 * p0 * p1 * p3 + 8 * p0 * p1;
    case Opcode::kSelectExperts: return 16 * p1;
    case Opcode::kCombine: return 2 * p0 * p1;
    default: return 0;
  }
}

std::uint64_t streamed_bytes(const isa::Instruction& in, int i) {
  const isa::Operand& o = operand(in, i);
  if (!o.present()) return 0;
  const std::uint64_t p0 = in.p[0], p1 = in.p[1], p2 = in.p[2], p3 = in.p[3];
  switch (in.op) {
    case Opcode::kEmbed:
      if (i == 1) return p0 * p3;
      if (i == 3) return p0 * p1 * 4;
      break;
    case Opcode::kKvAppend:
      if (i == 0) return 4 * p2;
      if (i == 3) return 2 * p2 + 4;
      break;
    case Opcode::kMatmul:
      if (i == 0) return p0 * (p2 + 8);
      if (i == 3) return (in.flags & isa::kStore) ? 4 * p0 * p3 : 0;
      break;
    case Opcode::kSend:
      return p1 * p2;
    default:
      break;
  }
  return o.bytes;
}

std::uint32_t hops(const target::Topology& topo, std::uint32_t a, std::uint32_t b) {
  if (a == b) return 0;
  const std::uint32_t na = a / topo.chips_per_node, nb = b / topo.chips_per_node;
  if (na == nb) return 1;
  if (na / topo.nodes_per_rack == nb / topo.nodes_per_rack) return topo.hops_within_rack;
  return topo.hops_between_racks;
}

InstrTiming timing_of(const target::Target& t, const isa::Instruction& in, std::uint32_t chip) {
  InstrTiming out;
  out.duration = duration_of(t, in);
  const auto kind = static_cast<std::size_t>(travel_kind(in.unit));
  for (const isa::Operand& s : in.src) {
    if (s.present() && s.pool < t.pools.size()) {
      out.read_latency = std::max<std::uint64_t>(out.read_latency, t.pools[s.pool].latency[kind]);
    }
  }
  const bool dst = in.dst.present() && in.dst.pool < t.pools.size();
  const std::uint64_t dst_latency = dst ? t.pools[in.dst.pool].latency[kind] : 0;
  // Operands arrive read_latency after issue and the unit streams them for
  // the duration; the result then crosses the unit's pipeline and travels
  // to its destination (a send: over the hops, then into the far pool).
  if (in.op == Opcode::kSend) {
    const auto guard = static_cast<std::uint64_t>(std::ceil(3.0 * t.links.hop_latency_sigma_cycles));
    out.write_latency = out.read_latency +
                        hops(t.topology, chip, in.p[0]) * (t.links.hop_latency_cycles + guard) + dst_latency;
    const target::Pool* src = in.src[0].present() && in.src[0].pool < t.pools.size()
                                  ? &t.pools[in.src[0].pool] : nullptr;
    const std::uint64_t buffered =
        src ? ceil_div(streamed_bytes(in, 0), src->bank_read_bytes_per_cycle) : out.duration;
    out.bank_hold = std::clamp<std::uint64_t>(buffered, 1, std::max<std::uint64_t>(1, out.duration));
  } else {
    out.write_latency = out.read_latency + pipeline_latency(t, in.unit) + dst_latency;
    out.bank_hold = out.duration;
  }
  return out;
}

}  // namespace lpu::sim
