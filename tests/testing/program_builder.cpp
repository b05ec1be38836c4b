#include "tests/testing/program_builder.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

#include "lib/core/sha256.h"
#include "lib/program/format_internal.h"

namespace lpu::testing {

using isa::Opcode;
using program::DataKind;
using program::Encoding;
using program::LayoutEntry;

namespace {

// Op ids of the default Program.
constexpr std::uint32_t kOpEmbed = 0;
constexpr std::uint32_t kOpNorm = 1;
constexpr std::uint32_t kOpQ = 2;
constexpr std::uint32_t kOpKv = 3;
constexpr std::uint32_t kOpGather = 4;

LayoutEntry entry(std::string name, std::uint32_t chip, std::uint8_t pool, Encoding enc,
                  DataKind kind, std::uint64_t offset, std::uint64_t bytes) {
  LayoutEntry e;
  e.name = std::move(name);
  e.chip = chip;
  e.pool = pool;
  e.encoding = enc;
  e.kind = kind;
  e.offset = offset;
  e.bytes = bytes;
  return e;
}

}  // namespace

ProgramBuilder::ProgramBuilder() {
  program::Metadata& m = p_.meta;
  m.model_name = "tiny-llama";
  m.model_hash = std::string(64, 'a');
  m.target_name = "test-2chip";
  m.target_hash = std::string(64, 'b');
  m.options_hash = std::string(64, 'c');
  m.group = 32;
  m.kv = "int8";
  m.slots = 2;
  m.chips = 2;
  m.clock_hz = 1e9;
  m.rms_eps = 1e-5f;
  p_.pool_names = {"act", "kv", "weights"};
  add_layout();
  p_.ops = {{"embed", "embed", -1},
            {"blk.0.attn_norm", "rmsnorm", 0},
            {"blk.0.attn_q", "matmul", 0},
            {"blk.0.kv_append", "kv_append", 0},
            {"gather", "copy", -1}};
  for (std::uint32_t chip = 0; chip < 2; ++chip) {
    p_.registers.push_back({chip, 1, 256, 16, "slot 0 position"});
  }
  add_streams();
}

void ProgramBuilder::add_layout() {
  for (std::uint32_t chip = 0; chip < 2; ++chip) {
    // Columns [32 chip, 32 chip + 32) of a 64 x 64 matrix: split by output
    // columns only.
    LayoutEntry q = entry("blk.0.attn_q.weight", chip, kWeights, Encoding::kTiledS8,
                          DataKind::kWeights, 0, 8192);
    q.n0 = 32 * chip;
    q.n1 = 32 * chip + 32;
    q.k = 64;
    q.tile_n = 16;
    q.seg = 32;
    q.group = 32;
    p_.layout.push_back(q);
    p_.layout.push_back(entry("blk.0.attn_norm.weight", chip, kWeights, Encoding::kF32,
                              DataKind::kWeights, 0x2000, 256));
    p_.layout.push_back(
        entry("act.x", chip, kAct, Encoding::kZero, DataKind::kActivations, 0, 1024));
    p_.layout.push_back(
        entry("act.q", chip, kAct, Encoding::kZero, DataKind::kActivations, 0x400, 512));
    p_.layout.push_back(
        entry("act.tokens", chip, kAct, Encoding::kZero, DataKind::kActivations, 0x600, 64));
    p_.layout.push_back(
        entry("kv.slot0.blk.0.k", chip, kKv, Encoding::kZero, DataKind::kKv, 0, 4096));
  }
  LayoutEntry embd = entry("token_embd.weight", 0, kWeights, Encoding::kGgufRows,
                           DataKind::kWeights, 0x2100, 4096);
  embd.n0 = 0;
  embd.n1 = 64;
  p_.layout.push_back(embd);
}

void ProgramBuilder::add_streams() {
  program::Variant v;
  v.name = "decode.ctx16";
  v.kind = program::VariantKind::kDecode;
  v.context = 16;
  v.rows = 2;
  v.static_latency_cycles = 200;
  v.lower_bound_cycles = 150;
  v.initiation_interval_cycles = 180;
  v.streams.resize(2);
  for (std::uint32_t chip = 0; chip < 2; ++chip) {
    auto& s = v.streams[chip];
    if (chip == 0) {
      isa::Instruction embed = instr(Opcode::kEmbed, 0, 8, kOpEmbed);
      embed.src[0] = operand(kAct, 0x600, 8);
      embed.src[1] = operand(kWeights, 0x2100, 4096);
      embed.dst = operand(kAct, 0, 512);
      embed.p = {2, 64, 8, 68, 0, 64, 0};
      s.push_back(embed);
    }
    isa::Instruction norm = instr(Opcode::kRmsNorm, 8, 10, kOpNorm);
    norm.src[0] = operand(kAct, 0, 512);
    norm.src[1] = operand(kWeights, 0x2000, 256);
    norm.dst = operand(kAct, 0, 512);
    norm.p = {2, 64, 0, 0, 0, 0, 0};
    s.push_back(norm);
    isa::Instruction load = instr(Opcode::kLoadWeights, 8, 6, kOpQ);
    load.src[0] = operand(kWeights, 0, 4096);
    load.p = {0, 32, 16, 0, 0, 0, 0};
    s.push_back(load);
    isa::Instruction mm = instr(Opcode::kMatmul, 18, 20, kOpQ);
    // One pass: the tile's only K segment, so it starts and ends its group
    // and its accumulator, and stores.
    mm.flags = isa::kGroupBegin | isa::kGroupEnd | isa::kAccInit | isa::kStore;
    mm.src[0] = operand(kAct, 0, 512);
    mm.dst = operand(kAct, 0x400, 256);
    mm.p = {2, 0, 32, 16, 0, 64, 32};
    s.push_back(mm);
    isa::Instruction kv = instr(Opcode::kKvAppend, 38, 12, kOpKv);
    kv.src[0] = operand(kAct, 0x400, 256);
    kv.dst = operand(kKv, 0, 256, /*reg=*/1);
    kv.p = {2, 1, 32, 0, 0, 0, 0};
    s.push_back(kv);
    isa::Instruction link =
        chip == 0 ? instr(Opcode::kSend, 50, 5, kOpGather) : instr(Opcode::kRecv, 55, 0, kOpGather);
    if (chip == 0) link.src[0] = operand(kAct, 0x400, 256);
    link.dst = operand(kAct, 0x500, 256);
    link.p = {1 - chip, 1, 256, 256, 256, 0, 0};
    s.push_back(link);
    s.push_back(instr(Opcode::kBarrier, 60, 0, kOpGather));
  }
  p_.variants.push_back(std::move(v));
}

ProgramBuilder& ProgramBuilder::with_prefill() {
  program::Variant v = p_.variants.front();
  v.name = "prefill.ctx16";
  v.kind = program::VariantKind::kPrefill;
  v.rows = 8;
  p_.variants.push_back(std::move(v));
  return *this;
}

ProgramBuilder& ProgramBuilder::with_filler(std::uint32_t n) {
  for (program::Variant& v : p_.variants) {
    for (auto& s : v.streams) {
      std::uint64_t t = s.empty() ? 0 : s.back().end_cycle();
      for (std::uint32_t i = 0; i < n; ++i, t += 4) {
        isa::Instruction add = instr(Opcode::kAdd, t, 4, kOpNorm);
        add.src[0] = operand(kAct, 0, 256);
        add.src[1] = operand(kAct, 0x100, 256);
        add.dst = operand(kAct, 0x200, 256);
        add.p[0] = 64 + i;
        s.push_back(add);
      }
      v.static_latency_cycles = std::max(v.static_latency_cycles, t);
    }
  }
  return *this;
}

std::vector<std::uint64_t> ProgramBuilder::capacities() { return {65536, 65536, 1u << 20}; }

isa::Instruction ProgramBuilder::instr(isa::Opcode op, std::uint64_t issue, std::uint32_t duration,
                                       std::uint32_t op_id) {
  isa::Instruction in;
  in.op = op;
  in.unit = isa::opcode_unit(op);
  in.issue_cycle = issue;
  in.duration = duration;
  in.op_id = op_id;
  return in;
}

isa::Operand ProgramBuilder::operand(std::uint8_t pool, std::uint64_t offset, std::uint32_t bytes,
                                     std::uint16_t reg) {
  isa::Operand o;
  o.pool = pool;
  o.offset = offset;
  o.bytes = bytes;
  o.index_reg = reg;
  return o;
}

void reseal_program(std::vector<std::uint8_t>& bytes) {
  using namespace program::internal;
  if (bytes.size() < kHeaderBytes) return;
  poke_u64(bytes, kPayloadBytesAt, bytes.size() - kHeaderBytes);
  Sha256 h;
  h.update(std::span<const std::uint8_t>(bytes).subspan(kHeaderBytes));
  const auto sum = h.digest();
  std::memcpy(bytes.data() + kChecksumAt, sum.data(), sum.size());
}

std::size_t find_bytes(std::span<const std::uint8_t> hay, std::span<const std::uint8_t> needle,
                       std::size_t from) {
  if (from <= hay.size()) {
    const auto it = std::search(hay.begin() + static_cast<std::ptrdiff_t>(from), hay.end(),
                                needle.begin(), needle.end());
    if (it != hay.end()) return static_cast<std::size_t>(it - hay.begin());
  }
  ADD_FAILURE() << "pattern of " << needle.size() << " bytes not found after " << from;
  return SIZE_MAX;
}

std::size_t find_text(std::span<const std::uint8_t> hay, std::string_view text, std::size_t from) {
  return find_bytes(hay, {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()}, from);
}

void poke_u8(std::vector<std::uint8_t>& bytes, std::size_t at, std::uint8_t v) { bytes.at(at) = v; }
void poke_u16(std::vector<std::uint8_t>& bytes, std::size_t at, std::uint16_t v) {
  for (std::size_t i = 0; i < 2; ++i) bytes.at(at + i) = static_cast<std::uint8_t>(v >> (8 * i));
}
void poke_u32(std::vector<std::uint8_t>& bytes, std::size_t at, std::uint32_t v) {
  for (std::size_t i = 0; i < 4; ++i) bytes.at(at + i) = static_cast<std::uint8_t>(v >> (8 * i));
}
void poke_u64(std::vector<std::uint8_t>& bytes, std::size_t at, std::uint64_t v) {
  for (std::size_t i = 0; i < 8; ++i) bytes.at(at + i) = static_cast<std::uint8_t>(v >> (8 * i));
}

program::Program ProgramBuilder::build() const {
  program::Program p = p_;
  for (program::Variant& v : p.variants) {
    std::uint32_t seq = 0;
    for (auto& stream : v.streams) {
      for (isa::Instruction& in : stream) in.seq = seq++;
    }
  }
  return p;
}

}  // namespace lpu::testing
