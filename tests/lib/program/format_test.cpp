// The Program binary format on valid input: round trips, determinism, the
// documented header layout, file I/O and the committed fuzz seed.
#include <gtest/gtest.h>

#include <bit>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <tuple>

#include "lib/core/sha256.h"
#include "lib/program/format_internal.h"
#include "lib/program/program.h"
#include "tests/testing/program_builder.h"
#include "tests/testing/test_paths.h"

namespace lpu::program {
namespace {

using lpu::testing::ProgramBuilder;

auto operand_tuple(const isa::Operand& o) {
  return std::make_tuple(o.pool, o.reserved, o.index_reg, o.bytes, o.offset);
}

auto instr_tuple(const isa::Instruction& in) {
  return std::make_tuple(in.op, in.unit, in.unit_index, in.flags, in.op_id, in.issue_cycle,
                         in.duration, in.p, operand_tuple(in.src[0]), operand_tuple(in.src[1]),
                         operand_tuple(in.src[2]), operand_tuple(in.dst));
}

auto layout_tuple(const LayoutEntry& e) {
  return std::make_tuple(e.name, e.chip, e.pool, e.encoding, e.kind, e.offset, e.bytes, e.n0, e.n1,
                         e.k, e.expert, e.tile_n, e.seg, e.group);
}

// Field by field, so a mismatch says which field.
void expect_same(const Program& a, const Program& b) {
  const Metadata &x = a.meta, &y = b.meta;
  EXPECT_EQ(std::make_tuple(x.model_name, x.model_hash, x.target_name, x.target_hash,
                            x.options_hash, x.group, x.kv, x.slots, x.chips),
            std::make_tuple(y.model_name, y.model_hash, y.target_name, y.target_hash,
                            y.options_hash, y.group, y.kv, y.slots, y.chips));
  EXPECT_EQ(std::bit_cast<std::uint64_t>(x.clock_hz), std::bit_cast<std::uint64_t>(y.clock_hz));
  EXPECT_EQ(std::bit_cast<std::uint32_t>(x.rms_eps), std::bit_cast<std::uint32_t>(y.rms_eps));
  EXPECT_EQ(a.pool_names, b.pool_names);
  ASSERT_EQ(a.layout.size(), b.layout.size());
  for (std::size_t i = 0; i < a.layout.size(); ++i) {
    EXPECT_EQ(layout_tuple(a.layout[i]), layout_tuple(b.layout[i])) << "layout[" << i << "]";
  }
  ASSERT_EQ(a.ops.size(), b.ops.size());
  for (std::size_t i = 0; i < a.ops.size(); ++i) {
    EXPECT_EQ(std::tie(a.ops[i].name, a.ops[i].kind, a.ops[i].layer),
              std::tie(b.ops[i].name, b.ops[i].kind, b.ops[i].layer));
  }
  ASSERT_EQ(a.registers.size(), b.registers.size());
  for (std::size_t i = 0; i < a.registers.size(); ++i) {
    const IndexRegister &r = a.registers[i], &s = b.registers[i];
    EXPECT_EQ(std::tie(r.chip, r.reg, r.stride_bytes, r.count, r.meaning),
              std::tie(s.chip, s.reg, s.stride_bytes, s.count, s.meaning));
  }
  EXPECT_EQ(std::tie(a.smoothing.method, a.smoothing.calibration_hash, a.smoothing.calibration_tokens),
            std::tie(b.smoothing.method, b.smoothing.calibration_hash, b.smoothing.calibration_tokens));
  EXPECT_EQ(std::bit_cast<std::uint32_t>(a.smoothing.alpha), std::bit_cast<std::uint32_t>(b.smoothing.alpha));
  EXPECT_EQ(std::tie(a.rotation.method, a.rotation.seed), std::tie(b.rotation.method, b.rotation.seed));
  ASSERT_EQ(a.smoothing.sites.size(), b.smoothing.sites.size());
  for (std::size_t i = 0; i < a.smoothing.sites.size(); ++i) {
    EXPECT_EQ(a.smoothing.sites[i].name, b.smoothing.sites[i].name);
    EXPECT_EQ(a.smoothing.sites[i].log2_factors, b.smoothing.sites[i].log2_factors) << "smoothing site " << i;
  }
  ASSERT_EQ(a.variants.size(), b.variants.size());
  for (std::size_t v = 0; v < a.variants.size(); ++v) {
    const Variant &p = a.variants[v], &q = b.variants[v];
    EXPECT_EQ(std::tie(p.name, p.kind, p.context, p.rows, p.last_row_logits, p.static_latency_cycles,
                       p.lower_bound_cycles, p.initiation_interval_cycles),
              std::tie(q.name, q.kind, q.context, q.rows, q.last_row_logits, q.static_latency_cycles,
                       q.lower_bound_cycles, q.initiation_interval_cycles));
    ASSERT_EQ(p.streams.size(), q.streams.size());
    for (std::size_t c = 0; c < p.streams.size(); ++c) {
      ASSERT_EQ(p.streams[c].size(), q.streams[c].size());
      for (std::size_t i = 0; i < p.streams[c].size(); ++i) {
        EXPECT_EQ(instr_tuple(p.streams[c][i]), instr_tuple(q.streams[c][i]))
            << "variant " << v << " chip " << c << " [" << i << "]";
      }
    }
  }
}

TEST(ProgramFormat, RoundTripGivesIdenticalBytesAndFields) {
  const Program p = ProgramBuilder().with_prefill().build();
  const std::vector<std::uint8_t> bytes = serialize(p);
  auto back = deserialize(bytes, "p.lpuprog");
  ASSERT_TRUE(back.ok()) << back.status().to_string();
  expect_same(p, *back);
  EXPECT_EQ(serialize(*back), bytes);
  EXPECT_TRUE(validate(*back, ProgramBuilder::capacities(), "p.lpuprog").ok());
}

TEST(ProgramFormat, RoundTripKeepsUnusualValues) {
  Program p = ProgramBuilder().build();
  p.meta.rms_eps = -0.0f;
  p.meta.clock_hz = std::bit_cast<double>(std::uint64_t{0x7ff8000000000123});  // a NaN payload
  p.meta.model_name = std::string("a\0b", 3);
  p.ops[0].layer = -7;
  p.registers[0].reg = 0xfffe;
  p.variants[0].streams[0][0].p = {1, 2, 3, 4, 5, 6, 0xffffffff};
  p.variants[0].streams[0][0].src[2] = ProgramBuilder::operand(9, ~0ull, ~0u, 0xffff);
  p.variants[0].streams.push_back({});  // an empty stream
  p.pool_names.push_back("");
  const auto bytes = serialize(p);
  auto back = deserialize(bytes, "p.lpuprog");
  ASSERT_TRUE(back.ok()) << back.status().to_string();
  expect_same(p, *back);
  EXPECT_EQ(serialize(*back), bytes);
}

TEST(ProgramFormat, RoundTripKeepsTheSmoothing) {
  Program p = ProgramBuilder().build();
  p.smoothing.method = "smoothquant";
  p.smoothing.alpha = 0.5f;
  p.smoothing.calibration_hash = std::string(64, 'a');
  p.smoothing.calibration_tokens = 512;
  p.smoothing.sites = {{"attention_input", {{0, 1, -3, 16}, {-16, 2, 0, 0}}}, {"down_input", {{}, {5}}}};
  p.rotation = {"hadamard", 0xfedcba9876543210ull};
  const auto bytes = serialize(p);
  auto back = deserialize(bytes, "p.lpuprog");
  ASSERT_TRUE(back.ok()) << back.status().to_string();
  expect_same(p, *back);
  EXPECT_EQ(serialize(*back), bytes);
  p.smoothing.method = "rotation";
  auto bad = deserialize(serialize(p), "p.lpuprog");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("smoothing.method: 'rotation' (expected empty or smoothquant)"),
            std::string::npos) << bad.status().message();
  p.smoothing.method = "smoothquant";
  p.rotation.method = "givens";
  bad = deserialize(serialize(p), "p.lpuprog");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("rotation.method: 'givens' (expected empty or hadamard)"),
            std::string::npos) << bad.status().message();
}

// A 2.1 file (no smoothing section, minor 1 in the header) still reads.
TEST(ProgramFormat, ReadsFormat2_1WithoutSmoothing) {
  std::vector<std::uint8_t> bytes = serialize(ProgramBuilder().build());
  const std::size_t smth = lpu::testing::find_text(bytes, "SMTH");
  bytes.resize(smth);
  bytes[internal::kMinorAt] = 1;
  lpu::testing::reseal_program(bytes);
  auto back = deserialize(bytes, "old.lpuprog");
  ASSERT_TRUE(back.ok()) << back.status().to_string();
  EXPECT_FALSE(back->smoothing.enabled());
  EXPECT_FALSE(back->rotation.enabled());
}

TEST(ProgramFormat, EmptyProgramRoundTrips) {
  const Program p;
  const auto bytes = serialize(p);
  auto back = deserialize(bytes, "empty.lpuprog");
  ASSERT_TRUE(back.ok()) << back.status().to_string();
  expect_same(p, *back);
}

TEST(ProgramFormat, SerialisationIsDeterministic) {
  const auto a = serialize(ProgramBuilder().build());
  const auto b = serialize(ProgramBuilder().build());
  EXPECT_EQ(a, b);
  EXPECT_EQ(program_hash(ProgramBuilder().build()), program_hash(ProgramBuilder().build()));
  EXPECT_EQ(program_hash(ProgramBuilder().build()), sha256_hex(a));
  EXPECT_EQ(program_hash(ProgramBuilder().build()).size(), 64u);
  Program changed = ProgramBuilder().build();
  changed.variants[0].streams[1][0].duration += 1;
  EXPECT_NE(program_hash(changed), program_hash(ProgramBuilder().build()));
}

// The header as docs/program-format.md states it, offset by offset.
TEST(ProgramFormat, HeaderMatchesTheDocumentedLayout) {
  const auto bytes = serialize(ProgramBuilder().build());
  ASSERT_GE(bytes.size(), 56u);
  EXPECT_EQ(std::string(bytes.begin(), bytes.begin() + 8), std::string("LPUPROG\0", 8));
  EXPECT_EQ(bytes[8] | bytes[9] << 8, kFormatMajor);
  EXPECT_EQ(bytes[10] | bytes[11] << 8, kFormatMinor);
  for (int i = 12; i < 16; ++i) EXPECT_EQ(bytes[i], 0) << "flags byte " << i;
  std::uint64_t payload = 0;
  for (int i = 0; i < 8; ++i) payload |= std::uint64_t{bytes[16 + i]} << (8 * i);
  EXPECT_EQ(payload, bytes.size() - 56);
  const std::string sum = sha256_hex(std::span<const std::uint8_t>(bytes).subspan(56));
  std::string stored;
  for (int i = 24; i < 56; ++i) {
    static constexpr char kDigits[] = "0123456789abcdef";
    stored += kDigits[bytes[i] >> 4];
    stored += kDigits[bytes[i] & 15];
  }
  EXPECT_EQ(stored, sum);
  EXPECT_EQ(std::string(bytes.begin() + 56, bytes.begin() + 60), "META");
}

TEST(ProgramFormat, InstructionRecordsAreAlignedAndLittleEndian) {
  Program p = ProgramBuilder().build();
  isa::Instruction& in = p.variants[0].streams[1][0];
  in.p[6] = 0xa1b2c3d4;
  const auto bytes = serialize(p);
  const std::uint8_t marker[] = {0xd4, 0xc3, 0xb2, 0xa1};
  const std::size_t at = testing::find_bytes(bytes, marker) - (24 + 6 * 4);
  EXPECT_EQ(at % 8, 0u);
  EXPECT_EQ(bytes[at], static_cast<std::uint8_t>(in.op));
  EXPECT_EQ(bytes[at + 1], static_cast<std::uint8_t>(in.unit));
  EXPECT_EQ(bytes[at + 8], in.issue_cycle & 0xff);
  EXPECT_EQ(bytes[at + 16], in.duration & 0xff);
  EXPECT_EQ(bytes[at + 20], in.seq & 0xff);
  EXPECT_EQ(bytes[at + 56], in.src[0].pool);
  EXPECT_EQ(bytes[at + 104], in.dst.pool);
  EXPECT_EQ(bytes[at + 104 + 8], in.dst.offset & 0xff);
}

TEST(ProgramFormat, WriteThenReadAFile) {
  const auto dir = testing::temp_dir() / "program_io";
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "p.lpuprog").string();
  const Program p = ProgramBuilder().build();
  ASSERT_TRUE(write_program(p, path).ok());
  auto back = read_program(path);
  ASSERT_TRUE(back.ok()) << back.status().to_string();
  EXPECT_EQ(serialize(*back), serialize(p));
  // Overwriting replaces the file whole and leaves no temporary behind.
  const Program q = ProgramBuilder().with_prefill().build();
  ASSERT_TRUE(write_program(q, path).ok());
  auto again = read_program(path);
  ASSERT_TRUE(again.ok()) << again.status().to_string();
  EXPECT_EQ(again->variants.size(), 2u);
  std::size_t files = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir)) ++files;
  EXPECT_EQ(files, 1u);
}

TEST(ProgramFormat, ReadErrorsNameThePath) {
  const auto dir = testing::temp_dir() / "program_io_errors";
  std::filesystem::create_directories(dir);
  auto missing = read_program((dir / "absent.lpuprog").string());
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("absent.lpuprog: cannot open"), std::string::npos);
  auto directory = read_program(dir.string());
  ASSERT_FALSE(directory.ok());
  EXPECT_NE(directory.status().message().find("not a regular file"), std::string::npos);
  const std::string bad = (dir / "bad.lpuprog").string();
  std::ofstream(bad) << "not a program, but long enough to hold a whole header of 56 bytes....";
  auto parsed = read_program(bad);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().message().rfind(bad + " @0x0: magic", 0), 0u)
      << parsed.status().message();
}

TEST(ProgramFormat, WriteFailureLeavesNothingBehind) {
  const auto dir = testing::temp_dir() / "program_io_fail";
  std::filesystem::create_directories(dir);
  // The target is a directory: the rename fails after the temporary was written.
  const auto target = dir / "taken";
  std::filesystem::create_directories(target / "inside");
  const Status s = write_program(ProgramBuilder().build(), target.string());
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find(target.string()), std::string::npos) << s.message();
  std::size_t files = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir)) ++files;
  EXPECT_EQ(files, 1u) << "a temporary file was left behind";
  const Status no_dir = write_program(ProgramBuilder().build(), (dir / "no/such/p").string());
  EXPECT_FALSE(no_dir.ok());
}

TEST(ProgramFormat, FindVariantAndNames) {
  const Program p = ProgramBuilder().with_prefill().build();
  ASSERT_NE(p.find_variant("prefill.ctx16"), nullptr);
  EXPECT_EQ(p.find_variant("prefill.ctx16")->kind, VariantKind::kPrefill);
  EXPECT_EQ(p.find_variant("decode.ctx16"), &p.variants[0]);
  EXPECT_EQ(p.find_variant("decode.ctx32"), nullptr);
  EXPECT_EQ(encoding_name(Encoding::kTiledS8), "tiled_s8");
  EXPECT_EQ(encoding_name(Encoding::kGgufRows), "gguf_rows");
  EXPECT_EQ(encoding_name(Encoding::kText), "text");
  EXPECT_EQ(data_kind_name(DataKind::kKv), "kv");
  EXPECT_EQ(data_kind_name(DataKind::kInstructions), "instructions");
  for (unsigned e = 0; e < static_cast<unsigned>(Encoding::kEncodingCount); ++e) {
    EXPECT_NE(encoding_name(static_cast<Encoding>(e)), "unknown") << e;
  }
  for (unsigned k = 0; k < static_cast<unsigned>(DataKind::kDataKindCount); ++k) {
    EXPECT_NE(data_kind_name(static_cast<DataKind>(k)), "unknown") << k;
  }
}

// tests/data/program/small.lpuprog seeds the fuzzer (scripts/fuzz.sh); it
// must stay the ProgramBuilder's default Program in the current format.
// LPU_UPDATE_TEST_DATA=1 rewrites it.
TEST(ProgramFormat, CommittedSeedIsTheBuildersProgram) {
  const auto path = testing::source_dir() / "tests/data/program/small.lpuprog";
  const auto bytes = serialize(ProgramBuilder().build());
  if (const char* u = std::getenv("LPU_UPDATE_TEST_DATA"); u != nullptr && std::string(u) == "1") {
    std::filesystem::create_directories(path.parent_path());
    ASSERT_TRUE(write_program(ProgramBuilder().build(), path.string()).ok());
  }
  auto committed = read_program(path.string());
  ASSERT_TRUE(committed.ok()) << committed.status().to_string()
                              << " (LPU_UPDATE_TEST_DATA=1 rewrites it)";
  EXPECT_EQ(serialize(*committed), bytes)
      << path << " is stale; LPU_UPDATE_TEST_DATA=1 rewrites it";
}

}  // namespace
}  // namespace lpu::program
