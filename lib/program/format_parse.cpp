// Parsing the Program payload (docs/program-format.md, "Payload"), one
// section per step. Every count is bounded by the bytes left before
// anything is sized by it, every enum is range-checked and every reserved
// field must be zero; an error names the file offset and the field path.
#include <bit>
#include <string>

#include "lib/program/byte_io.h"
#include "lib/program/format_internal.h"

namespace lpu::program::internal {
namespace {

// The reserved field of each of the four operands, for errors.
constexpr const char* kOperandReserved[4] = {"src0.reserved", "src1.reserved", "src2.reserved",
                                             "dst.reserved"};

class PayloadParser {
 public:
  // `bytes` is the whole file, its header already checked.
  PayloadParser(std::span<const std::uint8_t> bytes, std::string_view source)
      : r_(bytes, source, kHeaderBytes), minor_(load_le<std::uint16_t>(bytes.data() + kMinorAt)) {}

  Result<Program> run() {
    LPU_TRY(meta(), "");
    LPU_TRY(pools(), "");
    LPU_TRY(layout(), "");
    LPU_TRY(ops(), "");
    LPU_TRY(registers(), "");
    LPU_TRY(variants(), "");
    // Format 2.0 and 2.1 end with the variants; 2.2 adds the weight transforms.
    if (minor_ >= 2) {
      LPU_TRY(smoothing(), "");
      LPU_TRY(rotation(), "");
    }
    if (r_.remaining() != 0) {
      return r_.error_at(r_.offset(), {"payload", -1, {}},
                         std::to_string(r_.remaining()) + " trailing bytes (expected none after the " +
                             (minor_ >= 2 ? "rotation" : "variants") + " section)");
    }
    return std::move(p_);
  }

 private:
  // A u8 enum that must be below `count`.
  template <typename E>
  Status read_enum(E& out, unsigned count, const FieldPath& path) {
    const std::uint64_t at = r_.offset();
    std::uint8_t v = 0;
    LPU_TRY(r_.read(v, path), "");
    if (v >= count) {
      return r_.error_at(at, path,
                         std::to_string(v) + " (expected < " + std::to_string(count) + ")");
    }
    out = static_cast<E>(v);
    return {};
  }

  Status meta();
  Status pools();
  Status layout();
  Status layout_entry(std::int64_t i, LayoutEntry& e);
  Status ops();
  Status registers();
  Status variants();
  Status smoothing();
  Status rotation();
  // A transform's method string: empty (none) or `accepted`.
  Status method(std::string& out, std::string_view section, std::string_view accepted);
  Status variant(std::int64_t i, Variant& v);
  Status stream(const std::string& base, std::vector<isa::Instruction>& out);
  Status instruction(const std::uint8_t* rec, std::uint64_t at, const FieldPath& where,
                     isa::Instruction& in) const;

  ByteReader r_;
  std::uint16_t minor_;
  Program p_;
};

Status PayloadParser::meta() {
  Metadata& m = p_.meta;
  LPU_TRY(r_.expect_tag(kTagMeta, {"meta", -1, "tag"}), "");
  LPU_TRY(r_.read(m.group, {"meta", -1, "group"}), "");
  LPU_TRY(r_.read(m.slots, {"meta", -1, "slots"}), "");
  LPU_TRY(r_.read(m.chips, {"meta", -1, "chips"}), "");
  std::uint32_t eps = 0;
  std::uint64_t clock = 0;
  LPU_TRY(r_.read(eps, {"meta", -1, "rms_eps"}), "");
  LPU_TRY(r_.read(clock, {"meta", -1, "clock_hz"}), "");
  m.rms_eps = std::bit_cast<float>(eps);
  m.clock_hz = std::bit_cast<double>(clock);
  LPU_TRY(r_.read_string(m.model_name, {"meta", -1, "model_name"}), "");
  LPU_TRY(r_.read_string(m.model_hash, {"meta", -1, "model_hash"}), "");
  LPU_TRY(r_.read_string(m.target_name, {"meta", -1, "target_name"}), "");
  LPU_TRY(r_.read_string(m.target_hash, {"meta", -1, "target_hash"}), "");
  LPU_TRY(r_.read_string(m.options_hash, {"meta", -1, "options_hash"}), "");
  return r_.read_string(m.kv, {"meta", -1, "kv"});
}

Status PayloadParser::pools() {
  LPU_TRY(r_.expect_tag(kTagPools, {"pools", -1, "tag"}), "");
  std::uint32_t n = 0;
  LPU_TRY(r_.read_count(n, 4, {"pools", -1, "count"}), "");
  p_.pool_names.resize(n);
  for (std::uint32_t i = 0; i < n; ++i) {
    LPU_TRY(r_.read_string(p_.pool_names[i], {"pools", i, {}}), "");
  }
  return {};
}

Status PayloadParser::layout() {
  LPU_TRY(r_.expect_tag(kTagLayout, {"layout", -1, "tag"}), "");
  std::uint32_t n = 0;
  LPU_TRY(r_.read_count(n, kMinLayoutBytes, {"layout", -1, "count"}), "");
  p_.layout.resize(n);
  for (std::uint32_t i = 0; i < n; ++i) LPU_TRY(layout_entry(i, p_.layout[i]), "");
  return {};
}

Status PayloadParser::layout_entry(std::int64_t i, LayoutEntry& e) {
  LPU_TRY(r_.read_string(e.name, {"layout", i, "name"}), "");
  LPU_TRY(r_.read(e.chip, {"layout", i, "chip"}), "");
  LPU_TRY(r_.read(e.pool, {"layout", i, "pool"}), "");
  LPU_TRY(read_enum(e.encoding, static_cast<unsigned>(Encoding::kEncodingCount),
                    {"layout", i, "encoding"}),
          "");
  LPU_TRY(read_enum(e.kind, static_cast<unsigned>(DataKind::kDataKindCount), {"layout", i, "kind"}),
          "");
  LPU_TRY(r_.reserved<std::uint8_t>({"layout", i, "reserved0"}), "");
  LPU_TRY(r_.read(e.offset, {"layout", i, "offset"}), "");
  LPU_TRY(r_.read(e.bytes, {"layout", i, "bytes"}), "");
  LPU_TRY(r_.read(e.n0, {"layout", i, "n0"}), "");
  LPU_TRY(r_.read(e.n1, {"layout", i, "n1"}), "");
  LPU_TRY(r_.read(e.k, {"layout", i, "k"}), "");
  LPU_TRY(r_.read(e.expert, {"layout", i, "expert"}), "");
  LPU_TRY(r_.read(e.tile_n, {"layout", i, "tile_n"}), "");
  LPU_TRY(r_.read(e.seg, {"layout", i, "seg"}), "");
  LPU_TRY(r_.read(e.group, {"layout", i, "group"}), "");
  return r_.reserved<std::uint32_t>({"layout", i, "reserved1"});
}

Status PayloadParser::ops() {
  LPU_TRY(r_.expect_tag(kTagOps, {"ops", -1, "tag"}), "");
  std::uint32_t n = 0;
  LPU_TRY(r_.read_count(n, kMinOpBytes, {"ops", -1, "count"}), "");
  p_.ops.resize(n);
  for (std::uint32_t i = 0; i < n; ++i) {
    OpRecord& op = p_.ops[i];
    std::uint32_t layer = 0;
    LPU_TRY(r_.read_string(op.name, {"ops", i, "name"}), "");
    LPU_TRY(r_.read_string(op.kind, {"ops", i, "kind"}), "");
    LPU_TRY(r_.read(layer, {"ops", i, "layer"}), "");
    op.layer = static_cast<std::int32_t>(layer);  // two's complement
  }
  return {};
}

Status PayloadParser::registers() {
  LPU_TRY(r_.expect_tag(kTagRegisters, {"registers", -1, "tag"}), "");
  std::uint32_t n = 0;
  LPU_TRY(r_.read_count(n, kMinRegisterBytes, {"registers", -1, "count"}), "");
  p_.registers.resize(n);
  for (std::uint32_t i = 0; i < n; ++i) {
    IndexRegister& reg = p_.registers[i];
    LPU_TRY(r_.read(reg.chip, {"registers", i, "chip"}), "");
    LPU_TRY(r_.read(reg.reg, {"registers", i, "reg"}), "");
    LPU_TRY(r_.reserved<std::uint16_t>({"registers", i, "reserved"}), "");
    LPU_TRY(r_.read(reg.stride_bytes, {"registers", i, "stride_bytes"}), "");
    LPU_TRY(r_.read(reg.count, {"registers", i, "count"}), "");
    LPU_TRY(r_.read_string(reg.meaning, {"registers", i, "meaning"}), "");
  }
  return {};
}

Status PayloadParser::variants() {
  LPU_TRY(r_.expect_tag(kTagVariants, {"variants", -1, "tag"}), "");
  std::uint32_t n = 0;
  LPU_TRY(r_.read_count(n, kMinVariantBytes, {"variants", -1, "count"}), "");
  p_.variants.resize(n);
  for (std::uint32_t i = 0; i < n; ++i) LPU_TRY(variant(i, p_.variants[i]), "");
  return {};
}

Status PayloadParser::method(std::string& out, std::string_view section, std::string_view accepted) {
  const std::uint64_t at = r_.offset();
  LPU_TRY(r_.read_string(out, {section, -1, "method"}), "");
  if (out.empty() || out == accepted) return {};
  return r_.error_at(at, {section, -1, "method"}, "'" + out + "' (expected empty or " + std::string(accepted) + ")");
}

Status PayloadParser::smoothing() {
  Smoothing& s = p_.smoothing;
  LPU_TRY(r_.expect_tag(kTagSmoothing, {"smoothing", -1, "tag"}), "");
  LPU_TRY(method(s.method, "smoothing", "smoothquant"), "");
  std::uint32_t alpha = 0;
  LPU_TRY(r_.read(alpha, {"smoothing", -1, "alpha"}), "");
  s.alpha = std::bit_cast<float>(alpha);
  LPU_TRY(r_.read_string(s.calibration_hash, {"smoothing", -1, "calibration_hash"}), "");
  LPU_TRY(r_.read(s.calibration_tokens, {"smoothing", -1, "calibration_tokens"}), "");
  std::uint32_t n = 0;
  LPU_TRY(r_.read_count(n, 8, {"smoothing.sites", -1, "count"}), "");
  s.sites.resize(n);
  for (std::uint32_t i = 0; i < n; ++i) {
    SmoothingSite& site = s.sites[i];
    LPU_TRY(r_.read_string(site.name, {"smoothing.sites", i, "name"}), "");
    std::uint32_t layers = 0;
    LPU_TRY(r_.read_count(layers, 4, {"smoothing.sites", i, "layers"}), "");
    site.log2_factors.resize(layers);
    for (std::vector<std::int8_t>& layer : site.log2_factors) {
      std::uint32_t channels = 0;
      LPU_TRY(r_.read_count(channels, 1, {"smoothing.sites", i, "channels"}), "");
      const std::uint8_t* bytes = nullptr;
      LPU_TRY(r_.view(channels, bytes, {"smoothing.sites", i, "log2_factors"}), "");
      layer.assign(reinterpret_cast<const std::int8_t*>(bytes), reinterpret_cast<const std::int8_t*>(bytes) + channels);
    }
  }
  return {};
}

Status PayloadParser::rotation() {
  Rotation& r = p_.rotation;
  LPU_TRY(r_.expect_tag(kTagRotation, {"rotation", -1, "tag"}), "");
  LPU_TRY(method(r.method, "rotation", "hadamard"), "");
  return r_.read(r.seed, {"rotation", -1, "seed"});
}

Status PayloadParser::variant(std::int64_t i, Variant& v) {
  LPU_TRY(r_.read_string(v.name, {"variants", i, "name"}), "");
  LPU_TRY(read_enum(v.kind, 2, {"variants", i, "kind"}), "");
  std::uint8_t flags = 0;
  const std::uint64_t flags_at = r_.offset();
  LPU_TRY(r_.read(flags, {"variants", i, "flags"}), "");
  if ((flags & ~kVariantLastRowLogits) != 0) {
    return r_.error_at(flags_at, {"variants", i, "flags"},
                       std::to_string(flags) + " (expected 0 or 1: bit 0 is last_row_logits)");
  }
  v.last_row_logits = (flags & kVariantLastRowLogits) != 0;
  LPU_TRY(r_.reserved<std::uint16_t>({"variants", i, "reserved1"}), "");
  LPU_TRY(r_.read(v.context, {"variants", i, "context"}), "");
  LPU_TRY(r_.read(v.rows, {"variants", i, "rows"}), "");
  LPU_TRY(r_.read(v.static_latency_cycles, {"variants", i, "static_latency_cycles"}), "");
  LPU_TRY(r_.read(v.lower_bound_cycles, {"variants", i, "lower_bound_cycles"}), "");
  LPU_TRY(r_.read(v.initiation_interval_cycles, {"variants", i, "initiation_interval_cycles"}), "");
  const std::string base = "variants[" + std::to_string(i) + "].streams";
  std::uint32_t n = 0;
  LPU_TRY(r_.read_count(n, kMinStreamBytes, {base, -1, "count"}), "");
  v.streams.resize(n);
  for (std::uint32_t c = 0; c < n; ++c) {
    LPU_TRY(stream(base + "[" + std::to_string(c) + "]", v.streams[c]), "");
  }
  return {};
}

Status PayloadParser::stream(const std::string& base, std::vector<isa::Instruction>& out) {
  const std::uint64_t count_at = r_.offset();
  std::uint32_t n = 0;
  LPU_TRY(r_.read(n, {base, -1, "count"}), "");
  LPU_TRY(r_.skip_padding(kRecordAlignment, {base, -1, "padding"}), "");
  std::uint64_t need = 0;
  if (__builtin_mul_overflow(std::uint64_t{n}, kInstructionBytes, &need) || need > r_.remaining()) {
    return r_.error_at(count_at, {base, -1, "count"},
                       std::to_string(n) +
                           " (expected <= " + std::to_string(r_.remaining() / kInstructionBytes) +
                           ": each takes " + std::to_string(kInstructionBytes) + " of the " +
                           std::to_string(r_.remaining()) + " bytes left)");
  }
  const std::uint64_t first = r_.offset();
  const std::uint8_t* records = nullptr;
  LPU_TRY(r_.view(need, records, {base, -1, "records"}), "");
  out.resize(n);
  for (std::uint32_t i = 0; i < n; ++i) {
    const std::uint64_t at = first + std::uint64_t{i} * kInstructionBytes;
    LPU_TRY(instruction(records + std::size_t{i} * kInstructionBytes, at, {base, i, {}}, out[i]),
            "");
  }
  return {};
}

Status PayloadParser::instruction(const std::uint8_t* rec, std::uint64_t at, const FieldPath& where,
                                  isa::Instruction& in) const {
  // Errors point at the field's own byte: at + its offset in the record.
  auto fail = [&](std::size_t field_at, const char* field, const std::string& what) {
    return r_.error_at(at + field_at, {where.base, where.index, field}, what);
  };
  if (rec[kInOp] >= static_cast<unsigned>(isa::Opcode::kOpcodeCount)) {
    return fail(kInOp, "op",
                std::to_string(rec[kInOp]) + " (expected < " +
                    std::to_string(static_cast<unsigned>(isa::Opcode::kOpcodeCount)) + ")");
  }
  if (rec[kInUnit] >= isa::kUnitCount) {
    return fail(
        kInUnit, "unit",
        std::to_string(rec[kInUnit]) + " (expected < " + std::to_string(isa::kUnitCount) + ")");
  }
  if ((rec[kInFlags] & ~kKnownFlags) != 0) {
    return fail(kInFlags, "flags",
                hex(rec[kInFlags]) + " (expected only bits " + hex(kKnownFlags) + ")");
  }
  in.op = static_cast<isa::Opcode>(rec[kInOp]);
  in.unit = static_cast<isa::Unit>(rec[kInUnit]);
  in.unit_index = rec[kInUnitIndex];
  in.flags = rec[kInFlags];
  in.op_id = load_le<std::uint32_t>(rec + kInOpId);
  in.issue_cycle = load_le<std::uint64_t>(rec + kInIssue);
  in.duration = load_le<std::uint32_t>(rec + kInDuration);
  in.seq = load_le<std::uint32_t>(rec + kInSeq);
  if (const auto r = load_le<std::uint32_t>(rec + kInReserved); r != 0) {
    return fail(kInReserved, "reserved", std::to_string(r) + " (expected 0: reserved)");
  }
  for (std::size_t k = 0; k < kParamCount; ++k) {
    in.p[k] = load_le<std::uint32_t>(rec + kInParams + 4 * k);
  }
  for (std::size_t k = 0; k < 4; ++k) {
    const std::size_t base = kInOperands + k * kOperandBytes;
    const std::uint8_t* o = rec + base;
    if (const std::uint8_t r = o[kOpReserved]; r != 0) {
      return fail(base + kOpReserved, kOperandReserved[k],
                  std::to_string(r) + " (expected 0: reserved)");
    }
    isa::Operand& op = k < 3 ? in.src[k] : in.dst;
    op.pool = o[kOpPool];
    op.index_reg = load_le<std::uint16_t>(o + kOpIndexReg);
    op.reserved = 0;
    op.bytes = load_le<std::uint32_t>(o + kOpBytes);
    op.offset = load_le<std::uint64_t>(o + kOpOffset);
  }
  return {};
}

}  // namespace

Result<Program> parse_payload(std::span<const std::uint8_t> bytes, std::string_view source) {
  return PayloadParser(bytes, source).run();
}

}  // namespace lpu::program::internal
