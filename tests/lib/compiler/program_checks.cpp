#include "tests/lib/compiler/program_checks.h"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>
#include <vector>

#include "lib/isa/timing.h"

namespace lpu::testing {
namespace {

struct Interval {
  std::uint64_t begin, end;
  std::size_t index;
};

std::uint64_t indexed_end(const program::Program& p, std::uint32_t chip, const isa::Operand& o) {
  std::uint64_t end = o.offset + std::max<std::uint32_t>(1, o.bytes);
  if (o.index_reg == 0) return end;
  for (const program::IndexRegister& r : p.registers) {
    if (r.chip == chip && r.reg == o.index_reg) return end + (r.count - 1) * r.stride_bytes;
  }
  return end;
}

std::string overlap_error(const std::map<std::string, std::vector<Interval>>& by_resource,
                          std::uint32_t chip) {
  for (const auto& [name, list] : by_resource) {
    std::vector<Interval> v = list;
    std::sort(v.begin(), v.end(), [](const Interval& a, const Interval& b) { return a.begin < b.begin; });
    for (std::size_t i = 1; i < v.size(); ++i) {
      if (v[i].begin < v[i - 1].end) {
        return "chip " + std::to_string(chip) + ": " + name + " held by instructions " +
               std::to_string(v[i - 1].index) + " and " + std::to_string(v[i].index) + " at cycle " +
               std::to_string(v[i].begin);
      }
    }
  }
  return "";
}

}  // namespace

std::string check_resources(const program::Program& p, const target::Target& t, std::size_t variant) {
  const program::Variant& v = p.variants[variant];
  for (std::uint32_t chip = 0; chip < v.streams.size(); ++chip) {
    std::map<std::string, std::vector<Interval>> held;
    const auto& s = v.streams[chip];
    for (std::size_t i = 0; i < s.size(); ++i) {
      const isa::Instruction& in = s[i];
      if (in.duration == 0 || in.unit == isa::Unit::kSync) continue;
      const Interval iv{in.issue_cycle, in.issue_cycle + in.duration, i};
      held[std::string(isa::unit_name(in.unit)) + "." + std::to_string(in.unit_index)].push_back(iv);
      const Interval bank_iv{in.issue_cycle,
                             in.issue_cycle + isa::bank_hold_cycles(t, in, isa::instruction_timing(t, in, chip)), i};
      // An instruction holds each bank side once, however many of its
      // operands lie in that bank.
      std::set<std::string> sides;
      auto banks = [&](const isa::Operand& o, const char* side) {
        const std::uint64_t bank = t.pools[o.pool].bank_bytes();
        const std::uint64_t last = std::min<std::uint64_t>((indexed_end(p, chip, o) - 1) / bank,
                                                           t.pools[o.pool].banks - 1);
        for (std::uint64_t b = o.offset / bank; b <= last; ++b) {
          sides.insert(t.pools[o.pool].name + ".bank" + std::to_string(b) + "." + side);
        }
      };
      for (const isa::Operand& o : in.src) {
        if (o.present()) banks(o, "read");
      }
      if (in.dst.present() && in.op != isa::Opcode::kSend) banks(in.dst, "write");
      for (const std::string& side : sides) held[side].push_back(bank_iv);
    }
    const std::string e = overlap_error(held, chip);
    if (!e.empty()) return v.name + ": " + e;
  }
  return "";
}

std::string check_hazards(const program::Program& p, const target::Target& t, std::size_t variant) {
  const program::Variant& v = p.variants[variant];
  // Every memory access with its time window, per (chip, pool).
  struct Access {
    std::uint64_t lo, hi;       // bytes
    std::uint64_t time;         // read: first read cycle; write: landing cycle
    std::uint64_t until;        // read: last read cycle
    bool write;
    std::uint16_t reg;          // index register (0: direct)
    std::uint64_t base_hi;      // end of the range at register value 0
    std::uint32_t op;
    std::uint32_t chip;
    std::size_t index;
  };
  std::map<std::pair<std::uint32_t, std::uint32_t>, std::vector<Access>> acc;
  for (std::uint32_t chip = 0; chip < v.streams.size(); ++chip) {
    const auto& s = v.streams[chip];
    for (std::size_t i = 0; i < s.size(); ++i) {
      const isa::Instruction& in = s[i];
      const isa::Timing tm = isa::instruction_timing(t, in, chip);
      for (const isa::Operand& o : in.src) {
        if (!o.present()) continue;
        acc[{chip, o.pool}].push_back({o.offset, indexed_end(p, chip, o), in.issue_cycle + tm.read_latency,
                                       in.end_cycle() + tm.read_latency, false, o.index_reg, o.offset + o.bytes,
                                       in.op_id, chip, i});
      }
      if (in.dst.present() && (in.op != isa::Opcode::kMatmul || (in.flags & isa::kStore))) {
        const std::uint32_t to = in.op == isa::Opcode::kSend ? in.p[0] : chip;
        const std::uint64_t land = in.end_cycle() + tm.write_latency;
        acc[{to, in.dst.pool}].push_back({in.dst.offset, indexed_end(p, to, in.dst), land, land, true,
                                          in.dst.index_reg, in.dst.offset + in.dst.bytes, in.op_id,
                                          chip, i});
      }
    }
  }
  for (auto& [key, list] : acc) {
    std::sort(list.begin(), list.end(), [](const Access& a, const Access& b) { return a.lo < b.lo; });
    for (std::size_t i = 0; i < list.size(); ++i) {
      for (std::size_t j = i + 1; j < list.size() && list[j].lo < list[i].hi; ++j) {
        const Access* a = &list[i];
        const Access* b = &list[j];
        if (a->op == b->op || (!a->write && !b->write)) continue;
        // Two operands indexed by the same register of one chip move
        // together: they overlap only where their bases do.
        if (a->reg != 0 && a->reg == b->reg && a->chip == b->chip &&
            (a->base_hi <= b->lo || b->base_hi <= a->lo)) {
          continue;
        }
        if (a->op > b->op) std::swap(a, b);  // a is the earlier op
        std::string kind;
        if (a->write && !b->write && b->time < a->time) kind = "RAW";
        if (!a->write && b->write && b->time < a->until) kind = "WAR";
        if (a->write && b->write && b->time < a->time) kind = "WAW";
        if (kind.empty()) continue;
        return v.name + ": " + kind + " on chip " + std::to_string(key.first) + " pool " +
               p.pool_names[key.second] + " between op " + p.ops[a->op].name + " (chip " +
               std::to_string(a->chip) + " instruction " + std::to_string(a->index) + ") and op " +
               p.ops[b->op].name + " (chip " + std::to_string(b->chip) + " instruction " +
               std::to_string(b->index) + ")";
      }
    }
  }
  return "";
}

}  // namespace lpu::testing
