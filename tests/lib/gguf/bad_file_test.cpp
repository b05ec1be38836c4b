// Crafted corrupt GGUF files: each must give an error (never a crash) whose
// code is the documented one and whose message names the file and what was
// expected.
#include <gtest/gtest.h>

#include "lib/gguf/dequantize.h"
#include "lib/gguf/file.h"
#include "tests/testing/gguf_builder.h"

namespace lpu::gguf {
namespace {

using lpu::testing::GgufBuilder;

constexpr char kName[] = "crafted.gguf";

// A small valid file with a bit of everything.
GgufBuilder valid() {
  GgufBuilder b;
  b.kv_string("general.architecture", "llama")
      .kv_u32("n", 7)
      .kv_bool_raw("flag", 1)
      .kv_f32("eps", 1e-5f)
      .kv_string_array("tokens", {"a", "bc", ""})
      .kv_i32_array("ids", {1, -2, 3})
      .tensor("f32", {4, 2}, 0)
      .tensor("q8", {32, 1}, 8)
      .tensor("q4k", {256}, 12);
  return b;
}

Result<File> parse(const std::vector<std::uint8_t>& bytes, OpenOptions opts = {}) {
  return File::from_bytes(bytes, kName, opts);
}

// The error has `code`, names the file and contains every fragment.
void expect_error(const std::vector<std::uint8_t>& bytes, StatusCode code,
                  std::initializer_list<std::string> parts, OpenOptions opts = {}) {
  auto f = parse(bytes, opts);
  ASSERT_FALSE(f.ok()) << "parsed a corrupt file";
  const Status s = f.status();
  EXPECT_EQ(s.code(), code) << s.to_string();
  EXPECT_EQ(s.message().rfind(kName, 0), 0u)
      << "message does not start with the file name: " << s.message();
  for (const std::string& p : parts)
    EXPECT_NE(s.message().find(p), std::string::npos) << s.message() << "\n  lacks: " << p;
}

TEST(BadFile, TheBaseFileIsValid) {
  auto f = parse(valid().build());
  ASSERT_TRUE(f.ok()) << f.status().to_string();
  ASSERT_EQ(f->tensors().size(), 3u);
  for (const TensorInfo& t : f->tensors()) EXPECT_TRUE(dequantize_tensor(*f, t).ok());
}

TEST(BadFile, TruncationAtEveryByteIsAnError) {
  const auto bytes = valid().build();
  // The data section starts after the last tensor info; cutting anywhere,
  // even inside the final padding, leaves a tensor's data short.
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    std::vector<std::uint8_t> cut(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(n));
    auto f = parse(cut);
    if (f.ok()) {
      // Only a cut inside the last tensor's trailing padding can be valid.
      const TensorInfo& last = f->tensors().back();
      ASSERT_GE(n, f->data_offset() + last.offset + last.n_bytes) << "cut at " << n;
      continue;
    }
    EXPECT_EQ(f.status().code(), StatusCode::kDataLoss)
        << "cut at " << n << ": " << f.status().to_string();
    EXPECT_EQ(f.status().message().rfind(kName, 0), 0u) << f.status().message();
    EXPECT_TRUE(f.status().message().find("truncated") != std::string::npos ||
                f.status().message().find("past the end") != std::string::npos ||
                f.status().message().find("cannot fit") != std::string::npos ||
                f.status().message().find("exceeds the") != std::string::npos)
        << "cut at " << n << ": " << f.status().message();
  }
}

TEST(BadFile, BadMagic) {
  expect_error(GgufBuilder().magic(0x46554746).build(), StatusCode::kInvalidArgument,
               {"@0x0", "bad magic", "expected \"GGUF\""});
}

TEST(BadFile, UnsupportedVersion) {
  expect_error(GgufBuilder().version(1).build(), StatusCode::kUnimplemented,
               {"@0x4", "GGUF version 1", "expected 2 or 3"});
  expect_error(GgufBuilder().version(0x03000000).build(), StatusCode::kUnimplemented,
               {"big-endian"});
}

TEST(BadFile, HugeCounts) {
  expect_error(GgufBuilder().tensor_count(1ull << 60).build(), StatusCode::kDataLoss,
               {"tensor count 1152921504606846976 cannot fit"});
  expect_error(GgufBuilder().kv_count(~0ull).build(), StatusCode::kDataLoss,
               {"metadata count", "cannot fit"});
  // A plausible count, one more than the pairs present: the zero padding
  // after the real pair reads as an empty key.
  expect_error(GgufBuilder().kv_u32("a", 1).kv_count(2).build(), StatusCode::kDataLoss,
               {"@0x29: metadata key of 0 bytes (expected 1..1024)"});
}

TEST(BadFile, HugeStringAndArrayLengths) {
  expect_error(GgufBuilder().kv_key_len("key", 1ull << 62).build(), StatusCode::kDataLoss,
               {"metadata key: string length 4611686018427387904 exceeds"});
  auto str = GgufBuilder::le64(~0ull);
  expect_error(GgufBuilder().kv_raw("s", 8, str).build(), StatusCode::kDataLoss,
               {"string value", "exceeds"});
  auto arr = GgufBuilder::le32(4);  // uint32 items
  auto len = GgufBuilder::le64(1ull << 61);
  arr.insert(arr.end(), len.begin(), len.end());
  expect_error(GgufBuilder().kv_raw("arr", 9, arr).build(), StatusCode::kDataLoss,
               {"key 'arr': array of 2305843009213693952 uint32 items cannot fit"});
  auto sarr = GgufBuilder::le32(8);  // string items: each at least 8 bytes
  auto slen = GgufBuilder::le64(1000);
  sarr.insert(sarr.end(), slen.begin(), slen.end());
  expect_error(GgufBuilder().kv_raw("sarr", 9, sarr).build(), StatusCode::kDataLoss,
               {"array of 1000 string items"});
}

TEST(BadFile, UnknownValueTypes) {
  expect_error(GgufBuilder().kv_raw("k", 13, {0, 0, 0, 0}).build(), StatusCode::kDataLoss,
               {"key 'k': unknown value type 13 (expected 0..12)"});
  auto arr = GgufBuilder::le32(99);
  auto len = GgufBuilder::le64(1);
  arr.insert(arr.end(), len.begin(), len.end());
  expect_error(GgufBuilder().kv_raw("a", 9, arr).build(), StatusCode::kDataLoss,
               {"key 'a': unknown array element type 99"});
}

TEST(BadFile, DeeplyNestedArrays) {
  // array<array<array<u8>>> with one item each.
  std::vector<std::uint8_t> p = GgufBuilder::le32(9);
  for (auto b : GgufBuilder::le64(1)) p.push_back(b);
  for (auto b : GgufBuilder::le32(9)) p.push_back(b);
  for (auto b : GgufBuilder::le64(1)) p.push_back(b);
  for (auto b : GgufBuilder::le32(0)) p.push_back(b);
  for (auto b : GgufBuilder::le64(1)) p.push_back(b);
  p.push_back(5);
  expect_error(GgufBuilder().kv_raw("deep", 9, p).build(), StatusCode::kUnimplemented,
               {"key 'deep': arrays nested more than two deep"});
}

TEST(BadFile, BoolNotZeroOrOne) {
  expect_error(GgufBuilder().kv_bool_raw("b", 2).build(), StatusCode::kDataLoss,
               {"key 'b': bool value 2 (expected 0 or 1)"});
}

TEST(BadFile, DuplicateKeysAndTensorNames) {
  expect_error(GgufBuilder().kv_u32("k", 1).kv_u32("k", 2).build(), StatusCode::kDataLoss,
               {"duplicate metadata key 'k'"});
  expect_error(GgufBuilder().tensor("t", {4}, 0).tensor("t", {4}, 0).build(), StatusCode::kDataLoss,
               {"duplicate tensor name 't'"});
}

TEST(BadFile, EmptyOrOverlongNames) {
  expect_error(GgufBuilder().kv_u32("", 1).build(), StatusCode::kDataLoss,
               {"metadata key of 0 bytes (expected 1..1024)"});
  expect_error(GgufBuilder().tensor(std::string(2000, 'x'), {4}, 0).build(), StatusCode::kDataLoss,
               {"tensor name of 2000 bytes"});
}

TEST(BadFile, UnknownTensorType) {
  expect_error(GgufBuilder().tensor("w", {32}, 77).build(), StatusCode::kUnimplemented,
               {"tensor 'w': type unknown (id 77) is not supported (supported: F32 F16 BF16 Q8_0"});
  // Unknown ids are refused even when unsupported known types are allowed.
  expect_error(GgufBuilder().tensor("w", {32}, 77).build(), StatusCode::kUnimplemented, {"(id 77)"},
               OpenOptions{.allow_unsupported_types = true});
}

TEST(BadFile, KnownUnsupportedType) {
  const auto bytes = GgufBuilder().tensor("blk.3.ffn_up.weight", {256, 2}, 17).build();
  expect_error(bytes, StatusCode::kUnimplemented,
               {"tensor 'blk.3.ffn_up.weight': type IQ2_XS (id 17) is not supported (supported: "
                "F32 F16 BF16 Q8_0 "
                "Q4_0 Q4_1 Q4_K Q5_K Q6_K)"});
  // With allow_unsupported_types the file opens, and dequantising that
  // tensor is the error.
  auto f = parse(bytes, OpenOptions{.allow_unsupported_types = true});
  ASSERT_TRUE(f.ok()) << f.status().to_string();
  EXPECT_FALSE(f->tensors()[0].supported);
  auto d = dequantize_tensor(*f, f->tensors()[0]);
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("type IQ2_XS is not supported"), std::string::npos);
}

TEST(BadFile, DimensionCounts) {
  expect_error(GgufBuilder().tensor("z", {4}, 0).n_dims(0).build(), StatusCode::kDataLoss,
               {"tensor 'z': 0 dimensions (expected 1..4)"});
  expect_error(GgufBuilder().tensor("f", {4, 1, 1, 1, 1}, 0).build(), StatusCode::kDataLoss,
               {"tensor 'f': 5 dimensions (expected 1..4)"});
}

TEST(BadFile, OverflowingDims) {
  expect_error(GgufBuilder().tensor("o", {1ull << 32, 1ull << 32}, 0).build(),
               StatusCode::kDataLoss, {"tensor 'o': dimensions", "overflow the element count"});
  expect_error(GgufBuilder().tensor("o", {~0ull}, 0).build(), StatusCode::kDataLoss, {"overflow"});
  // Elements fit but bytes do not: 2^62 F32 values.
  expect_error(GgufBuilder().tensor("b", {1ull << 31, 1ull << 31}, 0).build(),
               StatusCode::kDataLoss, {"tensor 'b'"});
}

TEST(BadFile, RowNotAWholeNumberOfBlocks) {
  expect_error(GgufBuilder().tensor("q", {48}, 8).data(std::vector<std::uint8_t>(64)).build(),
               StatusCode::kDataLoss,
               {"tensor 'q': row length 48 is not a multiple of Q8_0's block of 32"});
}

TEST(BadFile, OffsetsPastTheEnd) {
  expect_error(GgufBuilder().tensor("t", {8}, 0).offset(1ull << 40).build(), StatusCode::kDataLoss,
               {"tensor 't': data", "runs past the end"});
  expect_error(GgufBuilder().tensor("t", {8}, 0).offset(~0ull - 31).build(), StatusCode::kDataLoss,
               {"runs past the end"});
  // The tensor's last bytes missing.
  expect_error(GgufBuilder().tensor("t", {64}, 0).trailing(-4).build(), StatusCode::kDataLoss,
               {"runs past the end"});
}

TEST(BadFile, MisalignedOffset) {
  expect_error(
      GgufBuilder().tensor("a", {8}, 0).tensor("m", {8}, 0).offset(36).trailing(64).build(),
      StatusCode::kDataLoss,
      {"tensor 'm': data offset 0x24 is not a multiple of the alignment 32"});
}

TEST(BadFile, OverlappingTensors) {
  expect_error(GgufBuilder().tensor("a", {64}, 0).tensor("b", {64}, 0).offset(128).build(),
               StatusCode::kDataLoss, {"overlaps another tensor's data"});
  expect_error(GgufBuilder().tensor("a", {64}, 0).tensor("b", {8}, 0).offset(0).build(),
               StatusCode::kDataLoss, {"overlaps"});
}

TEST(BadFile, BadGeneralAlignment) {
  expect_error(GgufBuilder().kv_u32("general.alignment", 0).build(), StatusCode::kInvalidArgument,
               {"'general.alignment' is 0 (expected a power of two)"});
  expect_error(GgufBuilder().kv_u32("general.alignment", 24).build(), StatusCode::kInvalidArgument,
               {"is 24 (expected a power of two)"});
  expect_error(GgufBuilder().kv_string("general.alignment", "32").build(),
               StatusCode::kInvalidArgument,
               {"'general.alignment' has type string (expected uint32)"});
  // A valid custom alignment lays out data accordingly.
  auto f = parse(GgufBuilder()
                     .kv_u32("general.alignment", 64)
                     .alignment(64)
                     .tensor("a", {3}, 0)
                     .tensor("b", {3}, 0)
                     .build());
  ASSERT_TRUE(f.ok()) << f.status().to_string();
  EXPECT_EQ(f->tensors()[1].offset, 64u);
  // The default alignment with 64-aligned layout puts 'b' at 64: valid.
  // A 64 alignment with a 32-aligned layout is misaligned.
  expect_error(
      GgufBuilder().kv_u32("general.alignment", 64).tensor("a", {3}, 0).tensor("b", {3}, 0).build(),
      StatusCode::kDataLoss,
      {"tensor 'b': data offset 0x20 is not a multiple of the alignment 64"});
}

TEST(BadFile, ZeroTensorFilesAreValid) {
  auto f = parse(GgufBuilder().kv_u32("a", 1).build());
  ASSERT_TRUE(f.ok()) << f.status().to_string();
  EXPECT_TRUE(f->tensors().empty());
  auto empty_meta = parse(GgufBuilder().build());
  ASSERT_TRUE(empty_meta.ok()) << empty_meta.status().to_string();
}

TEST(BadFile, ZeroSizedDimensionIsHarmless) {
  auto f = parse(GgufBuilder().tensor("e", {0, 4}, 0).build());
  ASSERT_TRUE(f.ok()) << f.status().to_string();
  EXPECT_EQ(f->tensors()[0].n_elements, 0u);
  EXPECT_EQ(f->tensors()[0].n_rows(), 0u);
  auto d = dequantize_tensor(*f, f->tensors()[0]);
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->empty());
}

TEST(BadFile, EmptyFile) {
  expect_error({}, StatusCode::kDataLoss, {"truncated file: expected 4 bytes of magic, 0 left"});
}

}  // namespace
}  // namespace lpu::gguf
