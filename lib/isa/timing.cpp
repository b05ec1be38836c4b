#include "lib/isa/timing.h"

#include <algorithm>
#include <cmath>

namespace lpu::isa {
namespace {

std::uint64_t div_up(std::uint64_t a, std::uint64_t b) { return b == 0 ? 0 : (a + b - 1) / b; }

target::UnitKind unit_kind(Unit u) {
  switch (u) {
    case Unit::kMatrix:
    case Unit::kWeightLoad:
      return target::UnitKind::kMatrix;
    case Unit::kVector:
      return target::UnitKind::kVector;
    case Unit::kLink:
      return target::UnitKind::kLink;
    case Unit::kSwitch:
    case Unit::kSync:
      break;
  }
  return target::UnitKind::kSwitch;
}

const target::Pool* pool_of(const target::Target& t, const Operand& o) {
  if (!o.present() || o.pool >= t.pools.size()) return nullptr;
  return &t.pools[o.pool];
}

// Cycles the operands' bytes need at their banks' rates.
std::uint64_t stream_cycles(const target::Target& t, const Instruction& in) {
  std::uint64_t c = 0;
  for (int i = 0; i < 3; ++i) {
    if (const target::Pool* p = pool_of(t, in.src[static_cast<std::size_t>(i)])) {
      c = std::max(c, div_up(touched_bytes(in, i), p->bank_read_bytes_per_cycle));
    }
  }
  if (const target::Pool* p = pool_of(t, in.dst)) {
    c = std::max(c, div_up(touched_bytes(in, 3), p->bank_write_bytes_per_cycle));
  }
  return c;
}

std::uint32_t unit_pipeline(const target::Target& t, Unit u) {
  switch (u) {
    case Unit::kMatrix:
      return t.matrix.pipeline_latency;
    case Unit::kVector:
      return t.vector.pipeline_latency;
    case Unit::kSwitch:
      return t.switch_unit.pipeline_latency;
    default:
      return 0;
  }
}

std::uint64_t occupancy(const target::Target& t, const Instruction& in) {
  const std::uint64_t streams = stream_cycles(t, in);
  switch (in.op) {
    case Opcode::kNop:
      return in.p[0];
    case Opcode::kRecv:
    case Opcode::kBarrier:
      return 0;
    case Opcode::kEmbed:
      return std::max(streams, div_up(std::uint64_t{in.p[0]} * in.p[3], t.switch_unit.bytes_per_cycle));
    case Opcode::kCopy:
      return std::max(streams, div_up(in.src[0].bytes, t.switch_unit.bytes_per_cycle));
    case Opcode::kLoadWeights:
      return std::max(streams, div_up(in.src[0].bytes, t.matrix.weight_load_bytes_per_cycle));
    case Opcode::kMatmul: {
      const std::uint64_t macs = std::uint64_t{in.p[0]} * in.p[2] * in.p[3];
      return std::max(streams, div_up(macs, t.matrix.macs_per_cycle));
    }
    case Opcode::kSend:
      return link_occupancy(t.links, std::uint64_t{in.p[1]} * in.p[2]);
    default:
      return std::max(streams, div_up(vector_ops(in), t.vector.ops_per_cycle()));
  }
}

}  // namespace

std::uint64_t touched_bytes(const Instruction& in, int operand) {
  const Operand& o = operand == 3 ? in.dst : in.src[static_cast<std::size_t>(operand)];
  const auto& p = in.p;
  switch (in.op) {
    case Opcode::kEmbed:  // one row of the table per token
      if (operand == 1) return std::uint64_t{p[0]} * p[3];
      if (operand == 3) return std::uint64_t{p[0]} * p[1] * 4;
      break;
    case Opcode::kKvAppend:  // one head's row in, one cache row (and its scale) out
      if (operand == 0) return std::uint64_t{p[2]} * 4;
      if (operand == 3) return std::uint64_t{p[2]} * 2 + 4;
      break;
    case Opcode::kSend:  // strided rows
      return std::uint64_t{p[1]} * p[2];
    case Opcode::kMatmul:  // the segment of each row (+ its scale and sum); the tile's outputs
      if (operand == 0) return std::uint64_t{p[0]} * (p[2] + 8);
      if (operand == 3) return (in.flags & kStore) ? std::uint64_t{p[0]} * p[3] * 4 : 0;
      break;
    default:
      break;
  }
  return o.bytes;
}

std::uint32_t vector_ops_per_element(Opcode op) {
  switch (op) {
    case Opcode::kRmsNorm: return 4;       // square, sum, scale, multiply by the weight
    case Opcode::kAdd: return 1;
    case Opcode::kSiluMul: return 6;       // exp, add, divide, two multiplies, store
    case Opcode::kQuantize: return 4;      // max|x|, scale, round, group sum
    case Opcode::kRopeAngles: return 12;   // a power, sin and cos per angle
    case Opcode::kRope: return 6;          // two multiplies and an add per output, pairwise
    case Opcode::kKvAppend: return 4;      // quantise each row and place it
    case Opcode::kSoftmax: return 6;       // scale, mask, max, exp, sum, divide (+ value scale)
    case Opcode::kAttentionF16: return 4;  // a multiply-add for the score and one for the output
    case Opcode::kRouterTopK: return 2;    // the router's multiply-adds
    case Opcode::kSelectExperts: return 1;
    case Opcode::kCombine: return 2;
    default: return 0;
  }
}

std::uint64_t vector_ops(const Instruction& in) {
  const std::uint64_t per = vector_ops_per_element(in.op);
  const auto& p = in.p;
  switch (in.op) {
    case Opcode::kAdd: return per * p[0];
    case Opcode::kRopeAngles: return per * std::uint64_t{p[0]} * p[1] / 2;
    case Opcode::kRope: return per * std::uint64_t{p[0]} * p[1] * p[3];
    case Opcode::kKvAppend: return per * std::uint64_t{p[0]} * p[2];  // one head's k or v row
    case Opcode::kAttentionF16:
      return per * std::uint64_t{p[0]} * (p[2] - p[1]) * p[3];
    case Opcode::kRouterTopK:
      return per * std::uint64_t{p[0]} * p[1] * p[3] + 8ull * p[0] * p[1];
    case Opcode::kSelectExperts: return 16ull * p[1];
    default: return per * std::uint64_t{p[0]} * p[1];
  }
}

std::uint32_t bank_hold_cycles(const target::Target& t, const Instruction& in, const Timing& tm) {
  if (in.op != Opcode::kSend) return tm.duration;
  const target::Pool* p = pool_of(t, in.src[0]);
  if (p == nullptr) return tm.duration;
  const auto hold = div_up(touched_bytes(in, 0), p->bank_read_bytes_per_cycle);
  return static_cast<std::uint32_t>(std::max<std::uint64_t>(1, std::min<std::uint64_t>(hold, tm.duration)));
}

std::uint32_t hops_between(const target::Topology& topo, std::uint32_t a, std::uint32_t b) {
  if (a == b) return 0;
  const std::uint32_t node_a = a / topo.chips_per_node;
  const std::uint32_t node_b = b / topo.chips_per_node;
  if (node_a == node_b) return 1;
  if (node_a / topo.nodes_per_rack == node_b / topo.nodes_per_rack) return topo.hops_within_rack;
  return topo.hops_between_racks;
}

std::uint32_t link_occupancy(const target::Links& links, std::uint64_t bytes) {
  const auto serial = static_cast<std::uint64_t>(std::ceil(static_cast<double>(bytes) / links.bytes_per_cycle));
  // Periodic resynchronisation takes every link for resync_cycles out of
  // each period: a transfer is stretched by that share, rounded up.
  const std::uint64_t resync =
      links.resync_period_cycles == 0 ? 0 : div_up(serial * links.resync_cycles, links.resync_period_cycles);
  return static_cast<std::uint32_t>(std::max<std::uint64_t>(1, serial + resync));
}

std::uint32_t link_flight(const target::Links& links, std::uint32_t hops) {
  // The static schedule must hold for the slowest arrival it can see:
  // a guard band of 3 sigma of the published hop-latency spread per hop.
  const auto guard = static_cast<std::uint32_t>(std::ceil(3.0 * links.hop_latency_sigma_cycles));
  return hops * (links.hop_latency_cycles + guard);
}

Timing instruction_timing(const target::Target& t, const Instruction& in, std::uint32_t chip) {
  Timing out;
  out.duration = static_cast<std::uint32_t>(std::min<std::uint64_t>(occupancy(t, in), 0xffffffffu));
  const target::UnitKind kind = unit_kind(in.unit);
  for (const Operand& s : in.src) {
    if (const target::Pool* p = pool_of(t, s)) {
      out.read_latency = std::max(out.read_latency, p->latency[static_cast<int>(kind)]);
    }
  }
  // A unit works on its operands as they arrive (read_latency after
  // issue), so its result leaves read_latency + duration after issue; the
  // write latency counts from the end of the duration: read latency + the
  // unit's pipeline + the way to the destination.
  if (in.op == Opcode::kSend) {
    const std::uint32_t hops = hops_between(t.topology, chip, in.p[0]);
    const target::Pool* p = pool_of(t, in.dst);
    out.write_latency = out.read_latency + link_flight(t.links, hops) +
                        (p ? p->latency[static_cast<int>(kind)] : 0);
  } else if (const target::Pool* p = pool_of(t, in.dst)) {
    out.write_latency = out.read_latency + unit_pipeline(t, in.unit) + p->latency[static_cast<int>(kind)];
  } else {
    out.write_latency = out.read_latency + unit_pipeline(t, in.unit);
  }
  return out;
}

}  // namespace lpu::isa
