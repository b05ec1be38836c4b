// Crafted corrupt Program files: one per failure mode of deserialize. Each
// must return an error (never crash) whose message starts with the file
// name, the offset of the bad field and its path, and says what was
// expected. Past the header, the test re-seals the payload size and
// checksum so the deeper check is the one that fires.
#include <gtest/gtest.h>

#include <cstdio>
#include <initializer_list>

#include "lib/program/program.h"
#include "tests/testing/program_builder.h"

namespace lpu::program {
namespace {

using lpu::testing::find_text;
using lpu::testing::poke_u16;
using lpu::testing::poke_u32;
using lpu::testing::poke_u64;
using lpu::testing::poke_u8;
using lpu::testing::ProgramBuilder;
using lpu::testing::reseal_program;

constexpr char kName[] = "crafted.lpuprog";

std::string hex(std::size_t v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "0x%zx", v);
  return buf;
}

std::size_t align8(std::size_t v) { return (v + 7) / 8 * 8; }

// Where things are in the default Program's bytes (docs/program-format.md).
struct Map {
  std::size_t pools = 0, layout = 0, ops = 0, regs = 0, vars = 0;  // section tags
  std::size_t q_fields = 0;  // layout[0]'s fixed fields, after its name
  std::size_t stream_count[2] = {0, 0};
  std::size_t records[2] = {0, 0};
};

Map map(const std::vector<std::uint8_t>& b) {
  Map m;
  m.pools = find_text(b, "POOL");
  m.layout = find_text(b, "LAYT", m.pools);
  m.ops = find_text(b, "OPS_", m.layout);
  m.regs = find_text(b, "REGS", m.ops);
  m.vars = find_text(b, "VARS", m.regs);
  m.q_fields = find_text(b, "blk.0.attn_q.weight", m.layout) + 19;
  // tag, count, name length, "decode.ctx16", 36 bytes of fields, stream count.
  m.stream_count[0] = m.vars + 4 + 4 + 4 + 12 + 36 + 4;
  m.records[0] = align8(m.stream_count[0] + 4);
  m.stream_count[1] = m.records[0] + 7 * 120;
  m.records[1] = align8(m.stream_count[1] + 4);
  return m;
}

std::vector<std::uint8_t> valid() { return serialize(ProgramBuilder().build()); }

// The error has `code` and starts "crafted.lpuprog @0xAT: PATH"; it contains
// every fragment.
void expect_error(const std::vector<std::uint8_t>& bytes, StatusCode code, std::size_t at,
                  const std::string& path, std::initializer_list<std::string> parts = {}) {
  auto p = deserialize(bytes, kName);
  ASSERT_FALSE(p.ok()) << "parsed a corrupt file";
  const Status status = p.status();
  const std::string& msg = status.message();
  EXPECT_EQ(status.code(), code) << status.to_string();
  const std::string prefix = std::string(kName) + " @" + hex(at) + ": " + path + ": ";
  EXPECT_EQ(msg.rfind(prefix, 0), 0u) << msg << "\n  does not start with: " << prefix;
  for (const std::string& part : parts) {
    EXPECT_NE(msg.find(part), std::string::npos) << msg << "\n  lacks: " << part;
  }
}

// Corrupts a valid file with `poke` (which returns the offset the error
// must name), re-seals it and expects the error.
template <typename Poke>
void expect_sealed_error(Poke poke, const std::string& path,
                         std::initializer_list<std::string> parts = {}) {
  auto b = valid();
  const std::size_t at = poke(b, map(b));
  reseal_program(b);
  expect_error(b, StatusCode::kDataLoss, at, path, parts);
}

// A poke writing `v` (of width `bytes`) at `where(map)`.
template <typename Where>
auto put(Where where, std::uint64_t v, int bytes) {
  return [=](std::vector<std::uint8_t>& b, const Map& m) {
    const std::size_t at = where(m);
    if (bytes == 1) poke_u8(b, at, static_cast<std::uint8_t>(v));
    if (bytes == 2) poke_u16(b, at, static_cast<std::uint16_t>(v));
    if (bytes == 4) poke_u32(b, at, static_cast<std::uint32_t>(v));
    if (bytes == 8) poke_u64(b, at, v);
    return at;
  };
}

TEST(BadProgram, TheBaseFileIsValid) {
  const auto b = valid();
  ASSERT_TRUE(deserialize(b, kName).ok());
  const Map m = map(b);
  EXPECT_EQ(b[m.records[0]], static_cast<std::uint8_t>(isa::Opcode::kEmbed));
  EXPECT_EQ(b[m.records[1]], static_cast<std::uint8_t>(isa::Opcode::kRmsNorm));
  EXPECT_EQ(b[m.stream_count[1]], 6);
}

// --- header ---

TEST(BadProgram, ShorterThanTheHeader) {
  for (std::size_t n : {0, 8, 55}) {
    const auto b = valid();
    const std::vector<std::uint8_t> cut(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(n));
    expect_error(cut, StatusCode::kDataLoss, 0, "header",
                 {"truncated (expected 56 bytes, " + std::to_string(n) + " in the file)"});
  }
}

TEST(BadProgram, BadMagic) {
  auto b = valid();
  b[0] = 'G';
  expect_error(b, StatusCode::kInvalidArgument, 0, "magic", {"not an lpu Program file"});
}

TEST(BadProgram, NewerMajorVersion) {
  auto b = valid();
  poke_u16(b, 8, 3);
  expect_error(b, StatusCode::kUnimplemented, 8, "version",
               {"format 3." + std::to_string(kFormatMinor), "this reader reads format 2." + std::to_string(kFormatMinor)});
  poke_u16(b, 8, 0);
  expect_error(b, StatusCode::kUnimplemented, 8, "version", {"format 0." + std::to_string(kFormatMinor)});
}

TEST(BadProgram, NewerMinorVersion) {
  auto b = valid();
  poke_u16(b, 10, kFormatMinor + 1);
  expect_error(b, StatusCode::kUnimplemented, 10, "version",
               {"format 2." + std::to_string(kFormatMinor + 1), "reads format 2." + std::to_string(kFormatMinor)});
}

TEST(BadProgram, NonzeroFlags) {
  auto b = valid();
  poke_u32(b, 12, 4);
  expect_error(b, StatusCode::kDataLoss, 12, "flags", {"0x4 (expected 0"});
}

TEST(BadProgram, PayloadSizeMismatch) {
  auto b = valid();
  const std::size_t payload = b.size() - 56;
  poke_u64(b, 16, payload + 1);
  expect_error(b, StatusCode::kDataLoss, 16, "payload_bytes",
               {std::to_string(payload + 1) + " (expected " + std::to_string(payload)});
  // A file cut short or grown without re-sealing fails here too.
  auto cut = valid();
  cut.pop_back();
  expect_error(cut, StatusCode::kDataLoss, 16, "payload_bytes", {"truncated or padded"});
  auto grown = valid();
  grown.push_back(0);
  expect_error(grown, StatusCode::kDataLoss, 16, "payload_bytes");
}

TEST(BadProgram, ChecksumMismatch) {
  auto b = valid();
  b[b.size() - 1] ^= 1;
  expect_error(b, StatusCode::kDataLoss, 24, "checksum", {"the SHA-256 of the payload"});
  auto c = valid();
  c[30] ^= 0x80;
  expect_error(c, StatusCode::kDataLoss, 24, "checksum");
}

// --- truncation past the header ---

TEST(BadProgram, TruncatedInsideAStringLength) {
  auto b = valid();
  b.resize(84 + 2);  // meta.model_name's length is at 84
  reseal_program(b);
  expect_error(b, StatusCode::kDataLoss, 84, "meta.model_name",
               {"truncated (expected 4 bytes, 2 left)"});
}

TEST(BadProgram, TruncatedInsideAString) {
  auto b = valid();
  b.resize(84 + 4 + 3);  // three of "tiny-llama"'s ten bytes
  reseal_program(b);
  expect_error(b, StatusCode::kDataLoss, 84, "meta.model_name",
               {"string length 10 (expected <= 3, the bytes left)"});
}

TEST(BadProgram, TruncatedInsideAFixedField) {
  auto b = valid();
  b.resize(76 + 3);  // three bytes of meta.clock_hz
  reseal_program(b);
  expect_error(b, StatusCode::kDataLoss, 76, "meta.clock_hz",
               {"truncated (expected 8 bytes, 3 left)"});
  // In the last layout entry, the layout count still fits what is left.
  b = valid();
  const std::size_t offset_at = find_text(b, "token_embd.weight") + 17 + 8;
  b.resize(offset_at + 3);
  reseal_program(b);
  expect_error(b, StatusCode::kDataLoss, offset_at, "layout[12].offset",
               {"truncated (expected 8 bytes, 3 left)"});
}

TEST(BadProgram, TruncatedInsideTheInstructionRecords) {
  auto b = valid();
  const Map m = map(b);
  b.resize(m.records[1] + 2 * 120 + 50);  // mid-way through chip 1's third record
  reseal_program(b);
  expect_error(b, StatusCode::kDataLoss, m.stream_count[1], "variants[0].streams[1].count",
               {"6 (expected <= 2: each takes 120 of the 290 bytes left)"});
}

TEST(BadProgram, TruncationAtEveryByteIsAnError) {
  const auto full = valid();
  for (std::size_t n = 56; n < full.size(); ++n) {
    std::vector<std::uint8_t> b(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
    reseal_program(b);
    auto p = deserialize(b, kName);
    ASSERT_FALSE(p.ok()) << "cut at " << n << " parsed";
    EXPECT_EQ(p.status().code(), StatusCode::kDataLoss) << n << ": " << p.status().to_string();
    EXPECT_EQ(p.status().message().rfind(std::string(kName) + " @0x", 0), 0u)
        << p.status().message();
  }
}

// --- counts that could never fit ---

TEST(BadProgram, HugeCounts) {
  const std::string n = "4294967295 (expected <= ";
  const std::uint32_t huge = 0xffffffff;
  expect_sealed_error(put([](const Map& m) { return m.pools + 4; }, huge, 4), "pools.count",
                      {n, "each takes >= 4 of"});
  expect_sealed_error(put([](const Map& m) { return m.layout + 4; }, huge, 4), "layout.count",
                      {n, ">= 60 of"});
  expect_sealed_error(put([](const Map& m) { return m.ops + 4; }, huge, 4), "ops.count", {n});
  expect_sealed_error(put([](const Map& m) { return m.regs + 4; }, huge, 4), "registers.count",
                      {n});
  expect_sealed_error(put([](const Map& m) { return m.vars + 4; }, huge, 4), "variants.count", {n});
  expect_sealed_error(put([](const Map& m) { return m.stream_count[0] - 4; }, huge, 4),
                      "variants[0].streams.count", {n});
  expect_sealed_error(put([](const Map& m) { return m.stream_count[1]; }, huge, 4),
                      "variants[0].streams[1].count", {n, "each takes 120 of"});
  // Large but not overflowing 64 bits either way: still refused before sizing anything.
  expect_sealed_error(put([](const Map& m) { return m.stream_count[0]; }, 1u << 31, 4),
                      "variants[0].streams[0].count", {"2147483648 (expected <= "});
}

TEST(BadProgram, StringLongerThanTheFormatAllows) {
  expect_sealed_error(put([](const Map&) { return 84; }, 70000, 4), "meta.model_name",
                      {"string length 70000 (expected <= 65535)"});
}

// --- enums, reserved fields, order ---

TEST(BadProgram, EnumsOutOfRange) {
  // chip 1's third instruction (the matmul)
  const auto instr = [](std::size_t field) {
    return [field](const Map& m) { return m.records[1] + 2 * 120 + field; };
  };
  const std::string ops = std::to_string(static_cast<int>(isa::Opcode::kOpcodeCount));
  expect_sealed_error(put(instr(0), 200, 1), "variants[0].streams[1][2].op",
                      {"200 (expected < " + ops + ")"});
  expect_sealed_error(put(instr(1), 6, 1), "variants[0].streams[1][2].unit", {"6 (expected < 6)"});
  expect_sealed_error(put([](const Map& m) { return m.q_fields + 5; }, 6, 1), "layout[0].encoding",
                      {"6 (expected < 6)"});
  expect_sealed_error(put([](const Map& m) { return m.q_fields + 6; }, 4, 1), "layout[0].kind",
                      {"4 (expected < 4)"});
  expect_sealed_error(put([](const Map& m) { return m.vars + 24; }, 2, 1), "variants[0].kind",
                      {"2 (expected < 2)"});
}

TEST(BadProgram, ReservedFieldsMustBeZero) {
  expect_sealed_error(put([](const Map& m) { return m.q_fields + 7; }, 1, 1), "layout[0].reserved0",
                      {"1 (expected 0: reserved)"});
  expect_sealed_error(put([](const Map& m) { return m.q_fields + 52; }, 9, 4),
                      "layout[0].reserved1", {"9 (expected 0: reserved)"});
  expect_sealed_error(put([](const Map& m) { return m.regs + 8 + 6; }, 1, 2),
                      "registers[0].reserved", {"expected 0: reserved"});
  // A variant's flags: bit 0 only, and only on a prefill variant.
  expect_sealed_error(put([](const Map& m) { return m.vars + 25; }, 2, 1), "variants[0].flags",
                      {"2 (expected 0 or 1"});
  expect_sealed_error(put([](const Map& m) { return m.vars + 26; }, 1, 2), "variants[0].reserved1");
  // dst.reserved of chip 1's matmul: byte 1 of the operand at 104.
  expect_sealed_error(put([](const Map& m) { return m.records[1] + 2 * 120 + 105; }, 3, 1),
                      "variants[0].streams[1][2].dst.reserved", {"3 (expected 0: reserved)"});
  expect_sealed_error(put([](const Map& m) { return m.records[1] + 2 * 120 + 3; }, 0x80, 1),
                      "variants[0].streams[1][2].flags", {"0x80 (expected only bits 0x"});
  // Stream 1's count is 8-aligned, so 4 padding bytes follow it.
  expect_sealed_error(put([](const Map& m) { return m.stream_count[1] + 5; }, 1, 1),
                      "variants[0].streams[1].padding", {"0x1 (expected 0: padding)"});
}

TEST(BadProgram, SectionTagOutOfOrder) {
  expect_sealed_error(put([](const Map& m) { return m.pools; }, 'X', 1), "pools.tag",
                      {"\"XOOL\" (expected \"POOL\""});
  expect_sealed_error(put([](const Map& m) { return m.vars; }, 0x01, 1), "variants.tag",
                      {"\"\\x01ARS\""});
}

TEST(BadProgram, TrailingBytes) {
  auto b = valid();
  const std::size_t end = b.size();
  b.insert(b.end(), {0, 0, 0});
  reseal_program(b);
  expect_error(b, StatusCode::kDataLoss, end, "payload",
               {"3 trailing bytes (expected none after the rotation section)"});
}

}  // namespace
}  // namespace lpu::program
