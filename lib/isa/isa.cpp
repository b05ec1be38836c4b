#include "lib/isa/isa.h"

#include <cinttypes>
#include <cstdio>
#include <iterator>

namespace lpu::isa {

namespace {

// Indexed by the enum value; the asserts make adding an enum value without
// its name a compile error.
constexpr std::string_view kUnitNames[] = {"matrix", "weight_load", "vector",
                                           "switch", "link",        "sync"};
static_assert(std::size(kUnitNames) == kUnitCount);

constexpr std::string_view kOpcodeNames[] = {
    "nop",          "embed",         "copy",        "rmsnorm",        "add",
    "silu_mul",     "quantize",      "rope_angles", "rope",           "kv_append",
    "softmax",      "attention_f16", "router_topk", "select_experts", "combine",
    "load_weights", "matmul",        "send",        "recv",           "barrier",
};
static_assert(std::size(kOpcodeNames) == static_cast<std::size_t>(Opcode::kOpcodeCount));

}  // namespace

std::string_view unit_name(Unit u) {
  const auto i = static_cast<std::size_t>(u);
  return i < std::size(kUnitNames) ? kUnitNames[i] : "unknown";
}

std::string_view opcode_name(Opcode op) {
  const auto i = static_cast<std::size_t>(op);
  return i < std::size(kOpcodeNames) ? kOpcodeNames[i] : "unknown";
}

Unit opcode_unit(Opcode op) {
  switch (op) {
    case Opcode::kEmbed:
    case Opcode::kCopy:
      return Unit::kSwitch;
    case Opcode::kRmsNorm:
    case Opcode::kAdd:
    case Opcode::kSiluMul:
    case Opcode::kQuantize:
    case Opcode::kRopeAngles:
    case Opcode::kRope:
    case Opcode::kKvAppend:
    case Opcode::kSoftmax:
    case Opcode::kAttentionF16:
    case Opcode::kRouterTopK:
    case Opcode::kSelectExperts:
    case Opcode::kCombine:
      return Unit::kVector;
    case Opcode::kLoadWeights:
      return Unit::kWeightLoad;
    case Opcode::kMatmul:
      return Unit::kMatrix;
    case Opcode::kSend:
      return Unit::kLink;
    // recv occupies nothing (the sender's link carries the data); nop and
    // barrier only mark a cycle.
    case Opcode::kRecv:
    case Opcode::kBarrier:
    case Opcode::kNop:
    case Opcode::kOpcodeCount:
      break;
  }
  return Unit::kSync;
}

namespace {

// Instructions may come straight from a file under inspection, so every
// enum is range-checked before it is named.
std::string opcode_text(Opcode op) {
  if (static_cast<int>(op) < static_cast<int>(Opcode::kOpcodeCount)) {
    return std::string(opcode_name(op));
  }
  return "op#" + std::to_string(static_cast<unsigned>(op));
}

std::string unit_text(Unit u) {
  if (static_cast<int>(u) < kUnitCount) return std::string(unit_name(u));
  return "unit#" + std::to_string(static_cast<unsigned>(u));
}

// "begin|end|init|store", unknown bits as hex.
std::string flags_text(std::uint8_t flags) {
  static constexpr struct {
    std::uint8_t bit;
    const char* name;
  } kNames[] = {{kGroupBegin, "begin"}, {kGroupEnd, "end"}, {kAccInit, "init"}, {kStore, "store"}};
  std::string s;
  std::uint8_t rest = flags;
  for (const auto& f : kNames) {
    if ((flags & f.bit) == 0) continue;
    if (!s.empty()) s += '|';
    s += f.name;
    rest = static_cast<std::uint8_t>(rest & ~f.bit);
  }
  if (rest != 0) {
    char buf[8];
    std::snprintf(buf, sizeof(buf), "0x%x", static_cast<unsigned>(rest));
    if (!s.empty()) s += '|';
    s += buf;
  }
  return s;
}

// "mem[r3]+0x2000:4096", or "-" when absent.
std::string operand_text(const Operand& o, const std::string* pool_names, std::size_t pools) {
  if (!o.present()) return "-";
  std::string s = o.pool < pools && pool_names != nullptr ? pool_names[o.pool]
                                                          : "pool#" + std::to_string(o.pool);
  if (o.index_reg != 0) {
    s += "[r";
    s += std::to_string(o.index_reg);
    s += ']';
  }
  char buf[64];
  std::snprintf(buf, sizeof(buf), "+0x%" PRIx64 ":%" PRIu32, o.offset, o.bytes);
  return s + buf;
}

}  // namespace

std::string to_text(const Instruction& in, const std::string* pool_names, std::size_t pools) {
  // Appended piece by piece (GCC 12 warns falsely on long "a" + b chains).
  std::string s = "@";
  s += std::to_string(in.issue_cycle);
  s += " +";
  s += std::to_string(in.duration);
  s += " #";
  s += std::to_string(in.seq);
  s += ' ';
  s += unit_text(in.unit);
  s += '.';
  s += std::to_string(in.unit_index);
  s += ' ';
  s += opcode_text(in.op);
  s += " op=";
  s += std::to_string(in.op_id);
  if (in.flags != 0) {
    s += " flags=";
    s += flags_text(in.flags);
  }
  // src0 and src1 always (most opcodes read one or two), src2 only when used.
  for (std::size_t i = 0; i < in.src.size(); ++i) {
    if (i == 2 && !in.src[i].present()) continue;
    s += " src";
    s += std::to_string(i);
    s += '=';
    s += operand_text(in.src[i], pool_names, pools);
  }
  s += " dst=";
  s += operand_text(in.dst, pool_names, pools);
  // Parameters up to the last non-zero one: most opcodes use the first few.
  std::size_t n = in.p.size();
  while (n > 1 && in.p[n - 1] == 0) --n;
  s += " p=";
  for (std::size_t i = 0; i < n; ++i) {
    if (i != 0) s += ',';
    s += std::to_string(in.p[i]);
  }
  return s;
}

}  // namespace lpu::isa
