// Meaning checks on a parsed (or freshly compiled) Program: the layer after
// the format's bounds checks (docs/program-format.md, "What validate
// checks"). Each error names the table, index and name, the field, the
// value found and what was expected.
#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <tuple>
#include <utility>

#include "lib/program/byte_io.h"
#include "lib/program/format_internal.h"
#include "lib/program/program.h"

namespace lpu::program {
namespace {

using isa::Instruction;
using isa::Opcode;
using isa::Operand;

// a + b, or false on overflow.
bool add(std::uint64_t a, std::uint64_t b, std::uint64_t& out) {
  return !__builtin_add_overflow(a, b, &out);
}

class Validator {
 public:
  Validator(const Program& p, std::span<const std::uint64_t> capacity, std::string_view source)
      : p_(p), capacity_(capacity), source_(source) {}

  Status run() {
    LPU_TRY(meta(), "");
    LPU_TRY(strings(), "");
    LPU_TRY(layout(), "");
    LPU_TRY(overlaps(), "");
    LPU_TRY(ops(), "");
    LPU_TRY(registers(), "");
    LPU_TRY(variant_names(), "");
    for (std::size_t v = 0; v < p_.variants.size(); ++v) LPU_TRY(variant(v), "");
    return {};
  }

 private:
  Status fail(const std::string& where, const std::string& what) const {
    return invalid_argument(std::string(source_) + ": " + where + ": " + what);
  }
  std::string entry(std::size_t i) const {
    return "layout[" + std::to_string(i) + "] '" + p_.layout[i].name + "'";
  }
  std::string pool_text(std::uint8_t pool) const {
    return pool < p_.pool_names.size() ? "'" + p_.pool_names[pool] + "'"
                                       : "#" + std::to_string(pool);
  }

  Status meta() const;
  Status strings() const;
  // Empty when `pool` indexes both the pool table and the capacities.
  std::string pool_problem(std::uint8_t pool) const;
  Status layout() const;
  Status encoding_fields(std::size_t i) const;
  Status overlaps() const;
  Status ops() const;
  Status registers();
  Status variant_names() const;
  Status variant(std::size_t v) const;
  Status instruction(std::uint32_t chip, const Instruction& in) const;
  Status operand(const std::string& name, std::uint32_t chip, const Operand& o) const;

  const Program& p_;
  std::span<const std::uint64_t> capacity_;
  std::string_view source_;
  std::map<std::pair<std::uint32_t, std::uint16_t>, const IndexRegister*> regs_;
};

Status Validator::meta() const {
  const Metadata& m = p_.meta;
  if (m.chips < 1) return fail("meta.chips", "0 (expected >= 1)");
  if (m.slots < 1) return fail("meta.slots", "0 (expected >= 1)");
  if (m.group < 1) return fail("meta.group", "0 (expected >= 1)");
  if (!std::isfinite(m.clock_hz) || m.clock_hz <= 0) {
    return fail("meta.clock_hz", std::to_string(m.clock_hz) + " (expected a positive frequency)");
  }
  if (!std::isfinite(m.rms_eps) || m.rms_eps < 0) {
    return fail("meta.rms_eps", std::to_string(m.rms_eps) + " (expected finite and >= 0)");
  }
  if (m.kv != "int8" && m.kv != "f16") {
    return fail("meta.kv", "'" + m.kv + "' (expected \"int8\" or \"f16\")");
  }
  if (p_.pool_names.size() >= isa::kNoPool) {
    return fail("pools", std::to_string(p_.pool_names.size()) + " pools (expected < " +
                             std::to_string(isa::kNoPool) + ": pool " +
                             std::to_string(isa::kNoPool) + " means \"no operand\")");
  }
  return {};
}

// Strings the format would refuse to read back.
Status Validator::strings() const {
  auto check = [&](const std::string& s, const std::string& where) {
    if (s.size() <= internal::kMaxStringBytes) return Status();
    return fail(where, "string of " + std::to_string(s.size()) + " bytes (expected <= " +
                           std::to_string(internal::kMaxStringBytes) + ")");
  };
  const Metadata& m = p_.meta;
  for (const std::string* s :
       {&m.model_name, &m.model_hash, &m.target_name, &m.target_hash, &m.options_hash, &m.kv}) {
    LPU_TRY(check(*s, "meta"), "");
  }
  for (std::size_t i = 0; i < p_.pool_names.size(); ++i) {
    LPU_TRY(check(p_.pool_names[i], "pools[" + std::to_string(i) + "]"), "");
  }
  for (std::size_t i = 0; i < p_.layout.size(); ++i) {
    LPU_TRY(check(p_.layout[i].name, "layout[" + std::to_string(i) + "].name"), "");
  }
  for (std::size_t i = 0; i < p_.ops.size(); ++i) {
    LPU_TRY(check(p_.ops[i].name, "ops[" + std::to_string(i) + "].name"), "");
    LPU_TRY(check(p_.ops[i].kind, "ops[" + std::to_string(i) + "].kind"), "");
  }
  for (std::size_t i = 0; i < p_.registers.size(); ++i) {
    LPU_TRY(check(p_.registers[i].meaning, "registers[" + std::to_string(i) + "].meaning"), "");
  }
  for (std::size_t i = 0; i < p_.variants.size(); ++i) {
    LPU_TRY(check(p_.variants[i].name, "variants[" + std::to_string(i) + "].name"), "");
  }
  return {};
}

std::string Validator::pool_problem(std::uint8_t pool) const {
  if (pool >= p_.pool_names.size()) {
    return "pool " + std::to_string(pool) + " (expected < " + std::to_string(p_.pool_names.size()) +
           ", the pools)";
  }
  if (pool >= capacity_.size()) {
    return "pool " + pool_text(pool) + " (index " + std::to_string(pool) +
           ") has no capacity (expected < " + std::to_string(capacity_.size()) +
           ", the capacities given)";
  }
  return {};
}

Status Validator::layout() const {
  for (std::size_t i = 0; i < p_.layout.size(); ++i) {
    const LayoutEntry& e = p_.layout[i];
    if (e.name.empty()) return fail(entry(i), "empty name (expected a tensor or state name)");
    if (e.chip >= p_.meta.chips) {
      return fail(entry(i), "chip " + std::to_string(e.chip) + " (expected < " +
                                std::to_string(p_.meta.chips) + ", the chips)");
    }
    if (std::string why = pool_problem(e.pool); !why.empty()) return fail(entry(i), why);
    const std::uint64_t cap = capacity_[e.pool];
    std::uint64_t end = 0;
    if (!add(e.offset, e.bytes, end) || end > cap) {
      return fail(entry(i), "bytes [" + internal::hex(e.offset) + ", +" + std::to_string(e.bytes) +
                                ") end past pool " + pool_text(e.pool) + " (expected within its " +
                                std::to_string(cap) + " bytes)");
    }
    LPU_TRY(encoding_fields(i), "");
  }
  return {};
}

// The slice fields an encoding needs to rebuild its bytes at load.
Status Validator::encoding_fields(std::size_t i) const {
  const LayoutEntry& e = p_.layout[i];
  if (static_cast<unsigned>(e.encoding) >= static_cast<unsigned>(Encoding::kEncodingCount) ||
      static_cast<unsigned>(e.kind) >= static_cast<unsigned>(DataKind::kDataKindCount)) {
    return fail(entry(i),
                "encoding " + std::to_string(static_cast<unsigned>(e.encoding)) + ", kind " +
                    std::to_string(static_cast<unsigned>(e.kind)) + " (expected < " +
                    std::to_string(static_cast<unsigned>(Encoding::kEncodingCount)) + " and < " +
                    std::to_string(static_cast<unsigned>(DataKind::kDataKindCount)) + ")");
  }
  const std::string where = entry(i) + " (" + std::string(encoding_name(e.encoding)) + ")";
  if (e.encoding == Encoding::kTiledS8 || e.encoding == Encoding::kZeroUnitScales) {
    if (e.tile_n == 0 || e.seg == 0 || e.group == 0 || e.k == 0) {
      return fail(where, "tile_n " + std::to_string(e.tile_n) + ", seg " + std::to_string(e.seg) +
                             ", group " + std::to_string(e.group) + ", k " + std::to_string(e.k) +
                             " (expected all > 0)");
    }
  }
  if ((e.encoding == Encoding::kTiledS8 || e.encoding == Encoding::kGgufRows ||
       e.encoding == Encoding::kZeroUnitScales) &&
      e.n1 <= e.n0) {
    return fail(where, "rows [" + std::to_string(e.n0) + ", " + std::to_string(e.n1) +
                           ") (expected n1 > n0)");
  }
  return {};
}

Status Validator::overlaps() const {
  std::vector<std::size_t> order;
  for (std::size_t i = 0; i < p_.layout.size(); ++i) {
    if (p_.layout[i].bytes > 0) order.push_back(i);
  }
  auto key = [&](std::size_t i) {
    const LayoutEntry& e = p_.layout[i];
    return std::make_tuple(e.chip, e.pool, e.offset, i);
  };
  std::sort(order.begin(), order.end(),
            [&](std::size_t a, std::size_t b) { return key(a) < key(b); });
  // Sorted by offset, any overlap shows between neighbours.
  for (std::size_t j = 1; j < order.size(); ++j) {
    const LayoutEntry& a = p_.layout[order[j - 1]];
    const LayoutEntry& b = p_.layout[order[j]];
    if (a.chip != b.chip || a.pool != b.pool || b.offset >= a.offset + a.bytes) continue;
    return fail(entry(order[j]), "bytes at " + internal::hex(b.offset) + " overlap " +
                                     entry(order[j - 1]) + " [" + internal::hex(a.offset) + ", " +
                                     internal::hex(a.offset + a.bytes) + ") on chip " +
                                     std::to_string(a.chip) + " pool " + pool_text(a.pool) +
                                     " (expected disjoint regions)");
  }
  return {};
}

Status Validator::ops() const {
  for (std::size_t i = 0; i < p_.ops.size(); ++i) {
    if (p_.ops[i].name.empty()) {
      return fail("ops[" + std::to_string(i) + "].name", "empty (expected the graph op's name)");
    }
  }
  return {};
}

Status Validator::registers() {
  for (std::size_t i = 0; i < p_.registers.size(); ++i) {
    const IndexRegister& r = p_.registers[i];
    const std::string where = "registers[" + std::to_string(i) + "] '" + r.meaning + "'";
    if (r.chip >= p_.meta.chips) {
      return fail(where, "chip " + std::to_string(r.chip) + " (expected < " +
                             std::to_string(p_.meta.chips) + ", the chips)");
    }
    if (r.reg == 0) return fail(where, "reg 0 (expected >= 1: 0 means \"not indexed\")");
    if (r.count < 1) return fail(where, "count 0 (expected >= 1 values)");
    if (!regs_.emplace(std::make_pair(r.chip, r.reg), &r).second) {
      return fail(where, "r" + std::to_string(r.reg) + " of chip " + std::to_string(r.chip) +
                             " is defined twice (expected one definition per chip and register)");
    }
  }
  return {};
}

// find_variant() returns the first match: a second one would be unreachable.
Status Validator::variant_names() const {
  std::map<std::string_view, std::size_t> seen;
  for (std::size_t v = 0; v < p_.variants.size(); ++v) {
    const auto [it, fresh] = seen.emplace(p_.variants[v].name, v);
    if (!fresh) {
      return fail(
          "variants[" + std::to_string(v) + "] '" + p_.variants[v].name + "'",
          "name also used by variants[" + std::to_string(it->second) + "] (expected unique names)");
    }
  }
  return {};
}

Status Validator::variant(std::size_t v) const {
  const Variant& var = p_.variants[v];
  const std::string name = "variants[" + std::to_string(v) + "] '" + var.name + "'";
  if (var.name.empty()) return fail(name, "empty name (expected e.g. \"decode.ctx2048\")");
  if (static_cast<unsigned>(var.kind) > static_cast<unsigned>(VariantKind::kPrefill)) {
    return fail(name,
                "kind " + std::to_string(static_cast<unsigned>(var.kind)) + " (expected < 2)");
  }
  if (var.last_row_logits && var.kind != VariantKind::kPrefill) {
    return fail(name, "last_row_logits on a decode variant (expected only on prefill)");
  }
  if (var.streams.size() != p_.meta.chips) {
    return fail(name, std::to_string(var.streams.size()) + " streams (expected " +
                          std::to_string(p_.meta.chips) + ", one per chip)");
  }
  std::size_t total = 0;
  for (const auto& stream : var.streams) total += stream.size();
  // Program order must number the variant's instructions 0 .. total - 1.
  std::vector<bool> numbered(total, false);
  for (std::uint32_t c = 0; c < var.streams.size(); ++c) {
    const std::vector<Instruction>& stream = var.streams[c];
    for (std::size_t i = 0; i < stream.size(); ++i) {
      const Instruction& in = stream[i];
      // Built only when something is wrong: streams hold thousands of instructions.
      auto where = [&] {
        return name + " chip " + std::to_string(c) + " [" + std::to_string(i) + "] " +
               (static_cast<unsigned>(in.op) < static_cast<unsigned>(Opcode::kOpcodeCount)
                    ? std::string(isa::opcode_name(in.op))
                    : "op#" + std::to_string(static_cast<unsigned>(in.op)));
      };
      if (i > 0 && in.issue_cycle < stream[i - 1].issue_cycle) {
        return fail(where(), "issue cycle " + std::to_string(in.issue_cycle) +
                                 " before the previous instruction's " +
                                 std::to_string(stream[i - 1].issue_cycle) +
                                 " (expected issue order)");
      }
      std::uint64_t end = 0;
      if (!add(in.issue_cycle, in.duration, end) || end > var.static_latency_cycles) {
        return fail(where(), "ends at cycle " + std::to_string(in.issue_cycle) + " + " +
                                 std::to_string(in.duration) +
                                 " (expected <= " + std::to_string(var.static_latency_cycles) +
                                 ", the static latency)");
      }
      if (Status s = instruction(c, in); !s.ok()) return fail(where(), s.message());
      if (in.seq >= total || numbered[in.seq]) {
        return fail(where(), "seq " + std::to_string(in.seq) +
                                 (in.seq >= total ? " (expected < " + std::to_string(total) +
                                                        ", the variant's instructions)"
                                                  : " (expected unique: program order numbers "
                                                    "each instruction once)"));
      }
      numbered[in.seq] = true;
    }
  }
  return {};
}

// Checks of one instruction on its own; errors are "FIELD: WHAT" for the
// caller to prefix with where the instruction is.
Status Validator::instruction(std::uint32_t chip, const Instruction& in) const {
  auto bad = [](const std::string& field, const std::string& what) {
    return invalid_argument(field + ": " + what);
  };
  if (static_cast<unsigned>(in.op) >= static_cast<unsigned>(Opcode::kOpcodeCount)) {
    return bad("op", std::to_string(static_cast<unsigned>(in.op)) + " (expected < " +
                         std::to_string(static_cast<unsigned>(Opcode::kOpcodeCount)) + ")");
  }
  if (in.unit != isa::opcode_unit(in.op)) {
    return bad("unit", (static_cast<int>(in.unit) < isa::kUnitCount
                            ? std::string(isa::unit_name(in.unit))
                            : "#" + std::to_string(static_cast<unsigned>(in.unit))) +
                           " (expected " + std::string(isa::unit_name(isa::opcode_unit(in.op))) +
                           ")");
  }
  if (in.op_id >= p_.ops.size()) {
    return bad("op_id", std::to_string(in.op_id) + " (expected < " + std::to_string(p_.ops.size()) +
                            ", the ops)");
  }
  const bool marker = in.op == Opcode::kRecv || in.op == Opcode::kBarrier || in.op == Opcode::kNop;
  if (in.duration == 0 && !marker) {
    return bad("duration", "0 (expected > 0: only recv, barrier and nop take no cycles)");
  }
  if ((in.flags & ~internal::kKnownFlags) != 0) {
    return bad("flags", internal::hex(in.flags) + " (expected only bits " +
                            internal::hex(internal::kKnownFlags) + ")");
  }
  if ((in.op == Opcode::kSend || in.op == Opcode::kRecv) &&
      (in.p[0] >= p_.meta.chips || in.p[0] == chip)) {
    return bad("p[0]", "peer chip " + std::to_string(in.p[0]) + " (expected < " +
                           std::to_string(p_.meta.chips) + " and not this chip " +
                           std::to_string(chip) + ")");
  }
  static constexpr const char* kNames[4] = {"src0", "src1", "src2", "dst"};
  for (std::size_t k = 0; k < 4; ++k) {
    const Operand& o = k < 3 ? in.src[k] : in.dst;
    if (Status s = operand(kNames[k], chip, o); !s.ok()) return s;
  }
  return {};
}

Status Validator::operand(const std::string& name, std::uint32_t chip, const Operand& o) const {
  auto bad = [&](const std::string& what) { return invalid_argument(name + ": " + what); };
  if (o.reserved != 0) return bad("reserved " + std::to_string(o.reserved) + " (expected 0)");
  if (!o.present()) {
    // Absent operands are all zero, so the text form hides nothing.
    if (o.index_reg != 0 || o.bytes != 0 || o.offset != 0) {
      return bad("absent (pool 255) but index_reg " + std::to_string(o.index_reg) + ", bytes " +
                 std::to_string(o.bytes) + ", offset " + internal::hex(o.offset) +
                 " (expected all 0)");
    }
    return {};
  }
  if (std::string why = pool_problem(o.pool); !why.empty()) return bad(why);
  const std::uint64_t cap = capacity_[o.pool];
  // The furthest byte the operand can reach: its last index value.
  std::uint64_t reach = o.offset;
  const IndexRegister* r = nullptr;
  if (o.index_reg != 0) {
    const auto it = regs_.find({chip, o.index_reg});
    if (it == regs_.end()) {
      return bad("index register r" + std::to_string(o.index_reg) + " (expected one of chip " +
                 std::to_string(chip) + "'s registers)");
    }
    r = it->second;
    std::uint64_t span = 0;
    if (__builtin_mul_overflow(std::uint64_t{r->count - 1}, r->stride_bytes, &span) ||
        !add(reach, span, reach)) {
      reach = UINT64_MAX;
    }
  }
  std::uint64_t end = 0;
  if (add(reach, o.bytes, end) && end <= cap) return {};
  std::string how = internal::hex(o.offset);
  if (r != nullptr) {
    how += " + " + std::to_string(r->count - 1) + " x " + std::to_string(r->stride_bytes);
  }
  return bad("bytes [" + how + ", +" + std::to_string(o.bytes) + ") end past pool " +
             pool_text(o.pool) + " (expected within its " + std::to_string(cap) + " bytes)");
}

}  // namespace

Status validate(const Program& p, std::span<const std::uint64_t> pool_capacity,
                std::string_view source) {
  return Validator(p, pool_capacity, source).run();
}

}  // namespace lpu::program
