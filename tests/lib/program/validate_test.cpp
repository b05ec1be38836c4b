// program::validate: one faulty Program per meaning error, each error
// naming where (table, index, name; variant, chip, instruction, opcode,
// field), the value found and what was expected.
#include <gtest/gtest.h>

#include <cmath>
#include <initializer_list>
#include <limits>

#include "lib/program/program.h"
#include "tests/testing/program_builder.h"

namespace lpu::program {
namespace {

using isa::Opcode;
using lpu::testing::ProgramBuilder;

constexpr char kName[] = "v.lpuprog";

Status check(const Program& p) { return validate(p, ProgramBuilder::capacities(), kName); }

void expect_invalid(const Program& p, std::initializer_list<std::string> parts,
                    std::span<const std::uint64_t> capacity = {}) {
  const auto caps = ProgramBuilder::capacities();
  const Status s =
      validate(p, capacity.empty() ? std::span<const std::uint64_t>(caps) : capacity, kName);
  ASSERT_FALSE(s.ok()) << "accepted a faulty Program";
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.to_string();
  EXPECT_EQ(s.message().rfind(std::string(kName) + ": ", 0), 0u) << s.message();
  for (const std::string& part : parts) {
    EXPECT_NE(s.message().find(part), std::string::npos) << s.message() << "\n  lacks: " << part;
  }
}

Program base() { return ProgramBuilder().build(); }

// chip 1's stream: rmsnorm, load_weights, matmul, kv_append, recv, barrier.
isa::Instruction& chip1(Program& p, std::size_t i) { return p.variants[0].streams[1][i]; }

TEST(Validate, TheBuildersProgramsAreValid) {
  EXPECT_TRUE(check(base()).ok()) << check(base()).to_string();
  const Program big = ProgramBuilder().with_prefill().with_filler(50).build();
  EXPECT_TRUE(check(big).ok()) << check(big).to_string();
}

TEST(Validate, Metadata) {
  Program p = base();
  p.meta.chips = 0;
  expect_invalid(p, {"meta.chips: 0 (expected >= 1)"});
  p = base();
  p.meta.slots = 0;
  expect_invalid(p, {"meta.slots: 0 (expected >= 1)"});
  p = base();
  p.meta.group = 0;
  expect_invalid(p, {"meta.group: 0"});
  p = base();
  p.meta.clock_hz = std::nan("");
  expect_invalid(p, {"meta.clock_hz", "expected a positive frequency"});
  p = base();
  p.meta.rms_eps = -1;
  expect_invalid(p, {"meta.rms_eps"});
  p = base();
  p.meta.kv = "bf16";
  expect_invalid(p, {"meta.kv: 'bf16' (expected \"int8\" or \"f16\")"});
  p = base();
  p.pool_names.resize(255, "x");
  expect_invalid(p, {"pools: 255 pools (expected < 255"});
  p = base();
  p.ops[0].name = std::string(70000, 'n');
  expect_invalid(p, {"ops[0].name: string of 70000 bytes (expected <= 65535)"});
}

TEST(Validate, StreamsPerChip) {
  Program p = base();
  p.variants[0].streams.pop_back();
  expect_invalid(p, {"variants[0] 'decode.ctx16': 1 streams (expected 2, one per chip)"});
  p = base();
  p.meta.chips = 3;
  expect_invalid(p, {"2 streams (expected 3, one per chip)"});
}

TEST(Validate, LayoutIndices) {
  Program p = base();
  p.layout[0].chip = 2;
  expect_invalid(p, {"layout[0] 'blk.0.attn_q.weight': chip 2 (expected < 2, the chips)"});
  p = base();
  p.layout[0].pool = 3;
  expect_invalid(p, {"layout[0] 'blk.0.attn_q.weight': pool 3 (expected < 3, the pools)"});
  const std::vector<std::uint64_t> two = {65536, 65536};
  expect_invalid(base(), {"layout[0]", "pool 'weights' (index 2) has no capacity (expected < 2"},
                 two);
  p = base();
  p.layout[1].name.clear();
  expect_invalid(p, {"layout[1] '': empty name"});
}

TEST(Validate, LayoutInsideItsPool) {
  Program p = base();
  p.layout[0].offset = (1u << 20) - 100;
  expect_invalid(p, {"layout[0] 'blk.0.attn_q.weight': bytes [0xfff9c, +8192) end past pool "
                     "'weights' (expected within its 1048576 bytes)"});
  p = base();
  p.layout[0].offset = std::numeric_limits<std::uint64_t>::max() - 10;  // offset + bytes overflows
  expect_invalid(p, {"end past pool 'weights'"});
}

TEST(Validate, LayoutOverlapNamesBothEntries) {
  Program p = base();
  p.layout[3].offset = 0x300;  // chip 0's act.q into act.x [0, 0x400)
  expect_invalid(p, {"layout[3] 'act.q': bytes at 0x300 overlap layout[2] 'act.x' [0x0, 0x400) "
                     "on chip 0 pool 'act' (expected disjoint regions)"});
  // The same region on another chip, or in another pool, is fine.
  p = base();
  p.layout[3].chip = 1;
  p.layout[3].offset = 0x1000;
  EXPECT_TRUE(check(p).ok()) << check(p).to_string();
}

TEST(Validate, LayoutEncodingFields) {
  Program p = base();
  p.layout[0].tile_n = 0;
  expect_invalid(p, {"layout[0] 'blk.0.attn_q.weight' (tiled_s8): tile_n 0, seg 32, group 32, "
                     "k 64 (expected all > 0)"});
  p = base();
  p.layout[0].n1 = p.layout[0].n0;
  expect_invalid(p, {"(tiled_s8): rows [0, 0) (expected n1 > n0)"});
  p = base();
  p.layout.back().n1 = 0;  // token_embd.weight, gguf_rows
  expect_invalid(p, {"'token_embd.weight' (gguf_rows): rows [0, 0) (expected n1 > n0)"});
  p = base();
  p.layout[1].encoding = static_cast<Encoding>(9);
  expect_invalid(p, {"layout[1]", "encoding 9, kind 0 (expected < 6 and < 4)"});
}

TEST(Validate, Ops) {
  Program p = base();
  p.ops[2].name.clear();
  expect_invalid(p, {"ops[2].name: empty"});
}

TEST(Validate, Registers) {
  Program p = base();
  p.registers[1].chip = 5;
  expect_invalid(p, {"registers[1] 'slot 0 position': chip 5 (expected < 2, the chips)"});
  p = base();
  p.registers[0].reg = 0;
  expect_invalid(p, {"registers[0] 'slot 0 position': reg 0 (expected >= 1"});
  p = base();
  p.registers[0].count = 0;
  expect_invalid(p, {"registers[0] 'slot 0 position': count 0 (expected >= 1 values)"});
  p = base();
  p.registers[1].chip = 0;
  expect_invalid(p, {"registers[1]", "r1 of chip 0 is defined twice"});
}

TEST(Validate, InstructionOpIdUnitAndDuration) {
  Program p = base();
  chip1(p, 2).op_id = 99;
  expect_invalid(p, {"variants[0] 'decode.ctx16' chip 1 [2] matmul: op_id: 99 (expected < 5, the "
                     "ops)"});
  p = base();
  chip1(p, 2).unit = isa::Unit::kVector;
  expect_invalid(p, {"chip 1 [2] matmul: unit: vector (expected matrix)"});
  p = base();
  chip1(p, 2).op = static_cast<Opcode>(77);
  expect_invalid(p, {"chip 1 [2] op#77: op: 77 (expected < " +
                     std::to_string(static_cast<int>(Opcode::kOpcodeCount)) + ")"});
  p = base();
  chip1(p, 2).duration = 0;
  expect_invalid(p, {"chip 1 [2] matmul: duration: 0 (expected > 0"});
  p = base();
  chip1(p, 2).flags = 0x40;
  expect_invalid(p, {"chip 1 [2] matmul: flags: 0x40 (expected only bits 0x"});
}

TEST(Validate, IssueOrderAndStaticLatency) {
  Program p = base();
  chip1(p, 3).issue_cycle = 5;  // kv_append before the matmul at 18
  expect_invalid(p, {"chip 1 [3] kv_append: issue cycle 5 before the previous instruction's 18"});
  p = base();
  p.variants[0].static_latency_cycles = 50;  // chip 0's send runs 50..55
  expect_invalid(p, {"variants[0] 'decode.ctx16' chip 0 [5] send: ends at cycle 50 + 5 "
                     "(expected <= 50, the static latency)"});
  p = base();
  chip1(p, 5).issue_cycle = std::numeric_limits<std::uint64_t>::max();
  chip1(p, 5).duration = 0;
  expect_invalid(p, {"chip 1 [5] barrier: ends at cycle"});
}

TEST(Validate, LastRowLogitsOnlyOnPrefill) {
  Program p = base();
  p.variants[0].last_row_logits = true;  // decode.ctx16
  expect_invalid(p, {"variants[0] 'decode.ctx16': last_row_logits on a decode variant (expected only on prefill)"});
}

TEST(Validate, OperandsInsideTheirPools) {
  Program p = base();
  chip1(p, 2).src[0].pool = 7;
  expect_invalid(p, {"chip 1 [2] matmul: src0: pool 7 (expected < 3, the pools)"});
  p = base();
  chip1(p, 2).src[0].offset = 65536 - 100;
  expect_invalid(p, {"chip 1 [2] matmul: src0: bytes [0xff9c, +512) end past pool 'act' "
                     "(expected within its 65536 bytes)"});
  p = base();
  chip1(p, 2).dst.reserved = 1;
  expect_invalid(p, {"chip 1 [2] matmul: dst: reserved 1 (expected 0)"});
  p = base();
  chip1(p, 2).src[2].bytes = 4;  // absent, yet carries a size
  expect_invalid(p, {"chip 1 [2] matmul: src2: absent (pool 255) but index_reg 0, bytes 4"});
}

TEST(Validate, IndexedOperands) {
  Program p = base();
  chip1(p, 3).dst.index_reg = 2;
  expect_invalid(p, {"chip 1 [3] kv_append: dst: index register r2 (expected one of chip 1's "
                     "registers)"});
  p = base();
  p.registers.erase(p.registers.begin() + 1);  // r1 exists on chip 0 only
  expect_invalid(p, {"chip 1 [3] kv_append: dst: index register r1"});
  p = base();
  p.registers[1].count = 1000;  // the last position lies past the 64 KiB kv pool
  expect_invalid(p,
                 {"chip 1 [3] kv_append: dst: bytes [0x0 + 999 x 256, +256) end past pool 'kv'"});
  p = base();
  p.registers[1].stride_bytes = std::numeric_limits<std::uint64_t>::max();
  expect_invalid(p, {"chip 1 [3] kv_append: dst:", "end past pool 'kv'"});
}

TEST(Validate, LinkPeers) {
  Program p = base();
  p.variants[0].streams[0][5].p[0] = 0;  // chip 0 sending to itself
  expect_invalid(p, {"chip 0 [5] send: p[0]: peer chip 0 (expected < 2 and not this chip 0)"});
  p = base();
  chip1(p, 4).p[0] = 9;
  expect_invalid(p, {"chip 1 [4] recv: p[0]: peer chip 9"});
}

TEST(Validate, VariantNames) {
  Program p = ProgramBuilder().with_prefill().build();
  p.variants[1].name = "decode.ctx16";
  expect_invalid(p, {"variants[1] 'decode.ctx16': name also used by variants[0]"});
  p = base();
  p.variants[0].name.clear();
  expect_invalid(p, {"variants[0] '': empty name"});
}

}  // namespace
}  // namespace lpu::program
