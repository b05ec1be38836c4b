// The text forms: isa names and isa::to_text, and program::disassemble.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "lib/isa/isa.h"
#include "lib/program/program.h"
#include "tests/testing/program_builder.h"

namespace lpu::program {
namespace {

using isa::Opcode;
using isa::Unit;
using lpu::testing::ProgramBuilder;

TEST(IsaNames, EveryOpcodeHasAUniqueNameAndItsUnit) {
  std::set<std::string_view> names;
  for (int i = 0; i < static_cast<int>(Opcode::kOpcodeCount); ++i) {
    const auto op = static_cast<Opcode>(i);
    EXPECT_NE(isa::opcode_name(op), "unknown") << i;
    EXPECT_TRUE(names.insert(isa::opcode_name(op)).second) << isa::opcode_name(op);
  }
  EXPECT_EQ(isa::opcode_name(Opcode::kMatmul), "matmul");
  EXPECT_EQ(isa::opcode_name(Opcode::kLoadWeights), "load_weights");
  EXPECT_EQ(isa::opcode_name(Opcode::kRmsNorm), "rmsnorm");
  EXPECT_EQ(isa::opcode_name(Opcode::kOpcodeCount), "unknown");
  for (Opcode op : {Opcode::kEmbed, Opcode::kCopy}) EXPECT_EQ(isa::opcode_unit(op), Unit::kSwitch);
  for (int i = static_cast<int>(Opcode::kRmsNorm); i <= static_cast<int>(Opcode::kCombine); ++i) {
    EXPECT_EQ(isa::opcode_unit(static_cast<Opcode>(i)), Unit::kVector) << i;
  }
  EXPECT_EQ(isa::opcode_unit(Opcode::kLoadWeights), Unit::kWeightLoad);
  EXPECT_EQ(isa::opcode_unit(Opcode::kMatmul), Unit::kMatrix);
  EXPECT_EQ(isa::opcode_unit(Opcode::kSend), Unit::kLink);
  for (Opcode op : {Opcode::kRecv, Opcode::kBarrier, Opcode::kNop}) {
    EXPECT_EQ(isa::opcode_unit(op), Unit::kSync);
  }
  for (int u = 0; u < isa::kUnitCount; ++u)
    EXPECT_NE(isa::unit_name(static_cast<Unit>(u)), "unknown");
  EXPECT_EQ(isa::unit_name(Unit::kWeightLoad), "weight_load");
}

TEST(IsaText, OneLinePerInstruction) {
  const std::string pools[] = {"act", "kv", "mem"};
  isa::Instruction in = ProgramBuilder::instr(Opcode::kMatmul, 1234, 40, 17);
  in.flags = isa::kGroupBegin | isa::kGroupEnd;
  in.src[0] = ProgramBuilder::operand(2, 0x100, 102400);
  in.dst = ProgramBuilder::operand(2, 0x2000, 4096, 3);
  in.p = {1, 0, 320, 320, 0, 0, 0};
  EXPECT_EQ(isa::to_text(in, pools, 3),
            "@1234 +40 #0 matrix.0 matmul op=17 flags=begin|end src0=mem+0x100:102400 src1=- "
            "dst=mem[r3]+0x2000:4096 p=1,0,320,320");
  in.src[2] = ProgramBuilder::operand(1, 0, 8);
  in.p[6] = 5;
  in.flags = 0;
  EXPECT_EQ(isa::to_text(in, pools, 3),
            "@1234 +40 #0 matrix.0 matmul op=17 src0=mem+0x100:102400 src1=- src2=kv+0x0:8 "
            "dst=mem[r3]+0x2000:4096 p=1,0,320,320,0,0,5");
}

TEST(IsaText, OutOfRangeValuesArePrintedNotTrusted) {
  const std::string pools[] = {"act"};
  isa::Instruction in;
  in.op = static_cast<Opcode>(200);
  in.unit = static_cast<Unit>(9);
  in.unit_index = 3;
  in.flags = 0x81;
  in.src[0] = ProgramBuilder::operand(9, 16, 4);
  EXPECT_EQ(isa::to_text(in, pools, 1),
            "@0 +0 #0 unit#9.3 op#200 op=0 flags=begin|0x80 src0=pool#9+0x10:4 src1=- dst=- p=0");
  EXPECT_EQ(isa::to_text(in, nullptr, 0).find("src0=pool#9+0x10:4") != std::string::npos, true);
}

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos || text.rfind(line + "\n", 0) == 0;
}

TEST(Disassemble, ShowsHeaderTablesAndEveryInstruction) {
  const Program p = ProgramBuilder().build();
  const std::string text = disassemble(p);
  EXPECT_TRUE(has_line(text, "lpu program (format 2.2)")) << text;
  EXPECT_TRUE(has_line(text, "model    tiny-llama  hash " + std::string(64, 'a'))) << text;
  EXPECT_TRUE(has_line(text, "target   test-2chip  hash " + std::string(64, 'b'))) << text;
  EXPECT_TRUE(has_line(text, "G 32  kv int8  slots 2  chips 2  clock 1000000000 Hz  rms_eps 1e-05"))
      << text;
  EXPECT_TRUE(has_line(text, "smoothing none")) << text;
  EXPECT_TRUE(has_line(text, "rotation none")) << text;
  Program smoothed = p;
  smoothed.smoothing = {"smoothquant", 0.5f, std::string(64, 'c'), 512, {{"attention_input", {{1, 0}, {-2, 3}}}}};
  EXPECT_TRUE(has_line(disassemble(smoothed), "smoothing smoothquant  alpha 0.5  calibration 512 tokens, hash " +
                                                  std::string(64, 'c') + "  (1 sites, 4 factors)"))
      << disassemble(smoothed);
  EXPECT_TRUE(has_line(text, "pools (3)")) << text;
  EXPECT_TRUE(has_line(text, "  2 weights")) << text;
  EXPECT_TRUE(has_line(text, "layout (13 entries)")) << text;
  EXPECT_TRUE(has_line(text,
                       "  chip pool          offset        bytes encoding  kind         "
                       "name                   slice"))
      << text;
  EXPECT_TRUE(has_line(text,
                       "  1    weights          0x0         8192 tiled_s8  weights      "
                       "blk.0.attn_q.weight    n [32, 64) k 64 expert 0 tile_n 16 seg 32 G 32"))
      << text;
  EXPECT_TRUE(has_line(text,
                       "  0    weights       0x2100         4096 gguf_rows weights      "
                       "token_embd.weight      n [0, 64) expert 0"))
      << text;
  EXPECT_TRUE(has_line(text,
                       "  1    kv               0x0         4096 zero      kv           "
                       "kv.slot0.blk.0.k"))
      << text;
  EXPECT_TRUE(has_line(text, "  chip 1 r1  stride 256  count 16  slot 0 position")) << text;
  EXPECT_TRUE(has_line(text, "  2 blk.0.attn_q  matmul  layer 0")) << text;
  EXPECT_TRUE(has_line(text,
                       "variant decode.ctx16 (decode): context 16, rows 2, static latency "
                       "200 cycles (0.200 us), lower bound 150, initiation interval 180"))
      << text;
  EXPECT_TRUE(has_line(text, "  chip 0 (7 instructions)")) << text;
  EXPECT_TRUE(has_line(text, "  chip 1 (6 instructions)")) << text;
  EXPECT_TRUE(has_line(text,
                       "    @18 +20 #3 matrix.0 matmul op=2 flags=begin|end|init|store "
                       "src0=act+0x0:512 src1=- dst=act+0x400:256 p=2,0,32,16,0,64,32"))
      << text;
  EXPECT_TRUE(has_line(text,
                       "    @38 +12 #4 vector.0 kv_append op=3 src0=act+0x400:256 src1=- "
                       "dst=kv[r1]+0x0:256 p=2,1,32"))
      << text;
  EXPECT_TRUE(has_line(text, "    @60 +0 #6 sync.0 barrier op=4 src0=- src1=- dst=- p=0")) << text;
  // Layout comes before registers and ops, and those before the variants.
  EXPECT_LT(text.find("layout ("), text.find("registers ("));
  EXPECT_LT(text.find("ops ("), text.find("variant decode"));
}

TEST(Disassemble, PrintsAnInvalidProgramWithoutTrustingIt) {
  Program p = ProgramBuilder().build();
  p.layout[0].pool = 200;
  p.layout[0].encoding = static_cast<Encoding>(42);
  p.variants[0].kind = static_cast<VariantKind>(7);
  p.variants[0].streams[0][0].src[0].pool = 99;
  const std::string text = disassemble(p);
  EXPECT_NE(text.find("pool#200"), std::string::npos);
  EXPECT_NE(text.find(" #42 "), std::string::npos);
  EXPECT_NE(text.find("(kind?)"), std::string::npos);
  EXPECT_NE(text.find("src0=pool#99+0x600:8"), std::string::npos);
}

}  // namespace
}  // namespace lpu::program
