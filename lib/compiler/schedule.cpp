#include "lib/compiler/schedule.h"

#include <algorithm>
#include <numeric>

#include "lib/isa/timing.h"

namespace lpu::compiler {
namespace {

std::uint64_t sat_sub(std::uint64_t a, std::uint64_t b) { return a > b ? a - b : 0; }

ResourceClass class_of(isa::Unit u) {
  switch (u) {
    case isa::Unit::kMatrix: return ResourceClass::kMatrix;
    case isa::Unit::kWeightLoad: return ResourceClass::kWeightLoad;
    case isa::Unit::kVector: return ResourceClass::kVector;
    case isa::Unit::kLink: return ResourceClass::kLink;
    default: return ResourceClass::kSwitch;
  }
}

}  // namespace

const char* resource_class_name(ResourceClass c) {
  switch (c) {
    case ResourceClass::kMatrix: return "matrix";
    case ResourceClass::kWeightLoad: return "weight_load";
    case ResourceClass::kVector: return "vector";
    case ResourceClass::kSwitch: return "switch";
    case ResourceClass::kLink: return "c2c";
    default: return "?";
  }
}

Scheduler::Scheduler(const target::Target& t, std::uint32_t chips)
    : t_(t), chips_(chips), units_per_chip_(2 * t.matrix.planes + 2 + t.links.count) {
  max_banks_ = 1;
  for (const target::Pool& p : t.pools) max_banks_ = std::max(max_banks_, p.banks);
  unit_free_.assign(std::size_t{chips} * units_per_chip_, 0);
  bank_free_.assign(std::size_t{chips} * t.pools.size() * max_banks_ * 2, 0);
  streams_.resize(chips);
  spans_.assign(chips, {0, 0});
}

std::size_t Scheduler::unit_resource(std::uint32_t chip, const isa::Instruction& in) const {
  std::size_t u = 0;
  switch (in.unit) {
    case isa::Unit::kMatrix: u = in.unit_index; break;
    case isa::Unit::kWeightLoad: u = t_.matrix.planes + in.unit_index; break;
    case isa::Unit::kVector: u = 2 * t_.matrix.planes; break;
    case isa::Unit::kSwitch: u = 2 * t_.matrix.planes + 1; break;
    case isa::Unit::kLink: u = 2 * t_.matrix.planes + 2 + in.unit_index; break;
    case isa::Unit::kSync: return SIZE_MAX;
  }
  return std::size_t{chip} * units_per_chip_ + u;
}

void Scheduler::bank_range(std::uint32_t chip, const isa::Operand& o, std::uint32_t& first,
                           std::uint32_t& last) const {
  const std::uint64_t bank = t_.pools[o.pool].bank_bytes();
  std::uint64_t end = o.offset + std::max<std::uint32_t>(o.bytes, 1);
  if (o.index_reg != 0) {
    // An indexed operand may touch any address its register can give.
    const auto it = registers.find((std::uint64_t{chip} << 16) | o.index_reg);
    if (it != registers.end()) end += (it->second.second - 1) * it->second.first;
  }
  first = static_cast<std::uint32_t>(o.offset / bank);
  last = static_cast<std::uint32_t>(std::min<std::uint64_t>((end - 1) / bank, t_.pools[o.pool].banks - 1));
}

std::size_t Scheduler::bank_resource(std::uint32_t chip, std::uint32_t pool, std::uint32_t bank,
                                     int side) const {
  return ((std::size_t{chip} * t_.pools.size() + pool) * max_banks_ + bank) * 2 + side;
}

std::uint64_t Scheduler::add(std::uint32_t chip, isa::Instruction in,
                             std::span<const RegionRef> reads,
                             std::span<const RegionRef> writes) {
  const isa::Timing tm = isa::instruction_timing(t_, in, chip);
  const std::uint64_t to_land = std::uint64_t{tm.duration} + tm.write_latency;
  std::uint64_t start = 0;
  for (const RegionRef& r : reads) {
    auto it = regions_.find(r.id);
    if (it == regions_.end()) continue;
    const Region& g = it->second;
    std::uint64_t land = g.all.land;
    if (r.sub >= 0) {
      land = g.whole.land;
      for (std::int64_t sub = r.sub; sub < std::max(r.sub + 1, r.sub_end); ++sub) {
        const auto p = g.parts.find(sub);
        if (p != g.parts.end()) land = std::max(land, p->second.land);
      }
    }
    start = std::max(start, sat_sub(land, tm.read_latency));
  }
  for (const RegionRef& w : writes) {
    auto it = regions_.find(w.id);
    if (it == regions_.end()) continue;
    const Region& g = it->second;
    std::uint64_t need = std::max(g.all.read_end, g.all.land);
    if (w.sub >= 0) {
      const auto p = g.parts.find(w.sub);
      const Access a = p == g.parts.end() ? Access{} : p->second;
      need = std::max({g.whole.read_end, g.whole.land, a.read_end, a.land});
    }
    start = std::max(start, sat_sub(need, to_land));
  }
  const std::size_t unit = unit_resource(chip, in);
  if (unit != SIZE_MAX) start = std::max(start, unit_free_[unit]);
  std::vector<std::size_t> banks;
  for (const isa::Operand& s : in.src) {
    if (!s.present()) continue;
    std::uint32_t b0 = 0, b1 = 0;
    bank_range(chip, s, b0, b1);
    for (std::uint32_t b = b0; b <= b1; ++b) banks.push_back(bank_resource(chip, s.pool, b, 0));
  }
  if (in.dst.present() && in.op != isa::Opcode::kSend) {
    std::uint32_t b0 = 0, b1 = 0;
    bank_range(chip, in.dst, b0, b1);
    for (std::uint32_t b = b0; b <= b1; ++b) banks.push_back(bank_resource(chip, in.dst.pool, b, 1));
  }
  for (std::size_t b : banks) start = std::max(start, bank_free_[b]);

  // Commit.
  const std::uint64_t end = start + tm.duration;
  const std::uint64_t land = end + tm.write_latency;
  if (unit != SIZE_MAX && tm.duration > 0) unit_free_[unit] = end;
  if (tm.duration > 0) {
    const std::uint64_t hold = start + isa::bank_hold_cycles(t_, in, tm);
    for (std::size_t b : banks) bank_free_[b] = hold;
  }
  // Sources stream in from read_latency after issue for the duration.
  const std::uint64_t read_end = end + tm.read_latency;
  for (const RegionRef& r : reads) {
    Region& g = regions_[r.id];
    g.all.read_end = std::max(g.all.read_end, read_end);
    if (r.sub >= 0) {
      for (std::int64_t sub = r.sub; sub < std::max(r.sub + 1, r.sub_end); ++sub) {
        g.parts[sub].read_end = std::max(g.parts[sub].read_end, read_end);
      }
    } else {
      g.whole.read_end = std::max(g.whole.read_end, read_end);
    }
  }
  for (const RegionRef& w : writes) {
    Region& g = regions_[w.id];
    g.all.land = std::max(g.all.land, land);
    if (w.sub >= 0) {
      g.parts[w.sub].land = std::max(g.parts[w.sub].land, land);
    } else {
      g.whole.land = std::max(g.whole.land, land);
    }
  }
  in.issue_cycle = start;
  in.duration = tm.duration;
  if (count_ >= kMaxInstructions) {
    overflow_ = true;
    return start;
  }
  in.seq = static_cast<std::uint32_t>(count_);  // arrival order is program order
  account(chip, in, land);
  streams_[chip].push_back(in);
  return start;
}

void Scheduler::account(std::uint32_t chip, const isa::Instruction& in, std::uint64_t land) {
  const std::uint64_t end = in.end_cycle();
  makespan_ = std::max({makespan_, end, land});
  // A chip's span runs from its first instruction that needs the step's
  // data to its last one: weight loads ahead of it, the RoPE angles (which
  // need only the positions) and the start barrier do not count, since
  // they can run while the chip finishes the step before (what another
  // step must wait for).
  auto& span = spans_[chip];
  if (in.unit != isa::Unit::kSync && in.unit != isa::Unit::kWeightLoad &&
      in.op != isa::Opcode::kRopeAngles) {
    if (span.second == 0) span.first = in.issue_cycle;
    span.first = std::min(span.first, in.issue_cycle);
    span.second = std::max(span.second, end);
  }
  auto [it, fresh] = op_spans_.try_emplace(in.op_id, in.issue_cycle, land);
  if (!fresh) {
    it->second.first = std::min(it->second.first, in.issue_cycle);
    it->second.second = std::max(it->second.second, land);
  }
  const auto cls = static_cast<std::uint64_t>(class_of(in.unit));
  if (in.unit != isa::Unit::kSync) {
    const std::uint64_t key = (std::uint64_t{in.op_id} << 32) | (cls << 24) | chip;
    const std::uint64_t busy = op_busy_[key] += in.duration;
    std::uint64_t& mx = op_busy_max_[(std::uint64_t{in.op_id} << 8) | cls];
    mx = std::max(mx, busy);
    total_busy_[cls] += in.duration;
  }
  ++count_;
  if (in.op == isa::Opcode::kMatmul) macs_ += std::uint64_t{in.p[0]} * in.p[2] * in.p[3];
  if (in.op == isa::Opcode::kSend) link_bytes_ += std::uint64_t{in.p[1]} * in.p[2];
  vector_ops_ += isa::vector_ops(in);
  for (const isa::Operand& s : in.src) sram_bytes_ += s.present() ? s.bytes : 0;
  if (in.dst.present()) sram_bytes_ += in.dst.bytes;
}

std::uint64_t Scheduler::op_busy(std::uint32_t op, ResourceClass c) const {
  const auto it = op_busy_max_.find((std::uint64_t{op} << 8) | static_cast<std::uint64_t>(c));
  return it == op_busy_max_.end() ? 0 : it->second;
}

std::vector<std::vector<isa::Instruction>> Scheduler::take_streams() {
  for (auto& s : streams_) {
    std::stable_sort(s.begin(), s.end(), [](const isa::Instruction& a, const isa::Instruction& b) {
      return a.issue_cycle < b.issue_cycle;
    });
  }
  return std::move(streams_);
}

}  // namespace lpu::compiler
