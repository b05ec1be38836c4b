#include "lib/gguf/writer.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <bit>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "lib/gguf/dequantize.h"
#include "lib/gguf/file.h"
#include "lib/gguf/quantize.h"
#include "tests/lib/gguf/gguf_json.h"
#include "tests/testing/test_paths.h"

namespace lpu::gguf {
namespace {

std::string temp_path(const std::string& name) {
  return (lpu::testing::temp_dir() / name).string();
}

Result<File> write_and_open(const Writer& w, const std::string& name) {
  const std::string path = temp_path(name);
  LPU_TRY(w.write(path), "write");
  return File::open(path);
}

std::vector<float> ramp(std::size_t n, float scale = 0.37f) {
  std::vector<float> v(n);
  for (std::size_t i = 0; i < n; ++i)
    v[i] = scale * static_cast<float>(static_cast<int>(i * 7919 % 201) - 100);
  return v;
}

TEST(Writer, EveryScalarValueTypeRoundTrips) {
  Writer w;
  w.set_u8("u8", 255);
  w.set_i8("i8", -128);
  w.set_u16("u16", 65535);
  w.set_i16("i16", -32768);
  w.set_u32("u32", 4294967295u);
  w.set_i32("i32", -2147483647 - 1);
  w.set_u64("u64", ~0ull);
  w.set_i64("i64", INT64_MIN);
  w.set_f32("f32", -1.5e-7f);
  w.set_f64("f64", 3.141592653589793);
  w.set_bool("t", true);
  w.set_bool("f", false);
  w.set_string("s", "h\xC3\xA9llo \xE2\x96\x81 \xF0\x9F\xA6\x99");
  w.set_string("empty", "");
  auto f = write_and_open(w, "scalars.gguf");
  ASSERT_TRUE(f.ok()) << f.status().to_string();
  EXPECT_EQ(f->version(), 3u);
  ASSERT_EQ(f->metadata().size(), 14u);
  EXPECT_EQ(f->metadata()[0].key, "u8");  // insertion order is file order
  EXPECT_EQ(f->find("u8")->type, ValueType::kUint8);
  EXPECT_EQ(*f->get_int("u8"), 255);
  EXPECT_EQ(*f->get_int("i8"), -128);
  EXPECT_EQ(*f->get_int("u16"), 65535);
  EXPECT_EQ(*f->get_int("i16"), -32768);
  EXPECT_EQ(*f->get_u32("u32"), 4294967295u);
  EXPECT_EQ(*f->get_int("i32"), -2147483648LL);
  EXPECT_EQ(std::get<std::uint64_t>(f->find("u64")->data), ~0ull);
  EXPECT_EQ(*f->get_int("i64"), INT64_MIN);
  EXPECT_EQ(static_cast<float>(*f->get_float("f32")), -1.5e-7f);
  EXPECT_EQ(f->find("f32")->type, ValueType::kFloat32);
  EXPECT_EQ(*f->get_float("f64"), 3.141592653589793);
  EXPECT_TRUE(*f->get_bool("t"));
  EXPECT_FALSE(*f->get_bool("f"));
  EXPECT_EQ(*f->get_string("s"), "h\xC3\xA9llo \xE2\x96\x81 \xF0\x9F\xA6\x99");
  EXPECT_EQ(*f->get_string("empty"), "");
  EXPECT_TRUE(f->tensors().empty());
}

TEST(Writer, ArraysRoundTripIncludingEmptyAndNested) {
  Writer w;
  w.set_string_array("strs", {"<s>", "", "\xE2\x96\x81the", std::string(5000, 'x')});
  const std::vector<std::int32_t> i32 = {-5, 0, 7, INT32_MAX};
  w.set_i32_array("i32s", i32);
  const std::vector<std::uint32_t> u32 = {0, 1, UINT32_MAX};
  w.set_u32_array("u32s", u32);
  const std::vector<std::int64_t> i64 = {INT64_MIN, 3};
  w.set_i64_array("i64s", i64);
  const std::vector<float> f32 = {0.1f, -0.0f, INFINITY};
  w.set_f32_array("f32s", f32);
  const std::vector<double> f64 = {1e300, -2.5};
  w.set_f64_array("f64s", f64);
  w.set_i32_array("empty", {});
  Array outer;
  outer.elem_type = ValueType::kArray;
  for (int n = 0; n < 3; ++n) {
    Array inner;
    inner.elem_type = ValueType::kUint8;
    for (int k = 0; k < n; ++k)
      inner.items.push_back(testing::make_value(ValueType::kUint8, std::uint64_t(k + 10 * n)));
    outer.items.push_back(testing::make_value(ValueType::kArray, std::move(inner)));
  }
  w.set("nested", testing::make_value(ValueType::kArray, outer));
  auto f = write_and_open(w, "arrays.gguf");
  ASSERT_TRUE(f.ok()) << f.status().to_string();
  EXPECT_EQ(*f->get_string_array("strs"),
            (std::vector<std::string>{"<s>", "", "\xE2\x96\x81the", std::string(5000, 'x')}));
  EXPECT_EQ(*f->get_int_array("i32s"), (std::vector<std::int64_t>{-5, 0, 7, INT32_MAX}));
  EXPECT_EQ(*f->get_int_array("u32s"), (std::vector<std::int64_t>{0, 1, UINT32_MAX}));
  EXPECT_EQ(*f->get_int_array("i64s"), (std::vector<std::int64_t>{INT64_MIN, 3}));
  const auto got_f32 = *f->get_float_array("f32s");
  ASSERT_EQ(got_f32.size(), 3u);
  EXPECT_EQ(std::bit_cast<std::uint32_t>(got_f32[1]), 0x80000000u);
  EXPECT_TRUE(std::isinf(got_f32[2]));
  EXPECT_EQ(std::get<Array>(f->find("f64s")->data).items[0].type, ValueType::kFloat64);
  EXPECT_TRUE(f->get_int_array("empty")->empty());
  const auto& nested = std::get<Array>(f->find("nested")->data);
  ASSERT_EQ(nested.items.size(), 3u);
  const auto& last = std::get<Array>(nested.items[2].data);
  ASSERT_EQ(last.items.size(), 2u);
  EXPECT_EQ(std::get<std::uint64_t>(last.items[1].data), 21u);
}

TEST(Writer, SettingAKeyAgainReplacesItInPlace) {
  Writer w;
  w.set_u32("a", 1);
  w.set_u32("b", 2);
  w.set_string("a", "now a string");
  ASSERT_EQ(w.metadata().size(), 2u);
  EXPECT_EQ(w.metadata()[0].key, "a");
  EXPECT_EQ(w.metadata()[0].value.type, ValueType::kString);
  EXPECT_TRUE(w.remove("a"));
  EXPECT_FALSE(w.remove("a"));
  EXPECT_EQ(w.find("a"), nullptr);
  ASSERT_NE(w.find("b"), nullptr);
}

// Every supported tensor type: encoded from fp32 by the writer (F32, F16,
// BF16, Q8_0) or given as raw blocks (all types), then read back.
TEST(Writer, TensorsOfEveryTypeRoundTrip) {
  Writer w;
  const auto v = ramp(64 * 3);
  for (TensorType t : {TensorType::kF32, TensorType::kF16, TensorType::kBF16, TensorType::kQ8_0}) {
    ASSERT_TRUE(w.add_tensor_f32("enc." + std::string(type_name(static_cast<std::uint32_t>(t))),
                                 {64, 3}, t, v)
                    .ok());
  }
  const TensorType all[] = {TensorType::kF32,  TensorType::kF16,  TensorType::kBF16,
                            TensorType::kQ8_0, TensorType::kQ4_0, TensorType::kQ4_1,
                            TensorType::kQ4_K, TensorType::kQ5_K, TensorType::kQ6_K};
  std::vector<std::vector<std::uint8_t>> raw;
  for (TensorType t : all) {
    const std::uint64_t n = 256 * 2;
    std::vector<std::uint8_t> bytes(*row_bytes(t, n));
    for (std::size_t i = 0; i < bytes.size(); ++i)
      bytes[i] = static_cast<std::uint8_t>(i * 131 + 7);
    // Keep f16 scales finite: clear the top exponent bit of every byte pair.
    for (std::size_t i = 1; i < bytes.size(); i += 2) bytes[i] &= 0x3F;
    raw.push_back(bytes);
    ASSERT_TRUE(w.add_tensor("raw." + std::string(type_name(static_cast<std::uint32_t>(t))),
                             {256, 1, 2}, t, bytes)
                    .ok());
  }
  auto f = write_and_open(w, "types.gguf");
  ASSERT_TRUE(f.ok()) << f.status().to_string();
  ASSERT_EQ(f->tensors().size(), 4u + std::size(all));
  for (const TensorInfo& t : f->tensors()) EXPECT_EQ(t.offset % 32, 0u) << t.name;
  for (std::size_t k = 0; k < std::size(all); ++k) {
    const TensorInfo& t = f->tensors()[4 + k];
    EXPECT_EQ(t.type, all[k]);
    EXPECT_EQ(t.dims, (std::vector<std::uint64_t>{256, 1, 2}));
    EXPECT_TRUE(std::equal(raw[k].begin(), raw[k].end(), t.data)) << t.name;
  }
  // F32 is exact; F16 and BF16 are the rounded values; Q8_0 is within half
  // a step d = amax / 127 plus |q| <= 127 times the f16 rounding of d
  // (relative 2^-11): d * (0.5 + 0.062).
  const auto f32 = *dequantize_tensor(*f, f->tensors()[0]);
  EXPECT_EQ(f32, v);
  const auto f16 = *dequantize_tensor(*f, f->tensors()[1]);
  const auto bf16 = *dequantize_tensor(*f, f->tensors()[2]);
  const auto q8 = *dequantize_tensor(*f, f->tensors()[3]);
  for (std::size_t i = 0; i < v.size(); ++i) {
    EXPECT_EQ(f16[i], f16_to_f32(f32_to_f16(v[i])));
    EXPECT_EQ(bf16[i], bf16_to_f32(f32_to_bf16(v[i])));
    EXPECT_NEAR(q8[i], v[i], 37.0 / 127 * 0.563);
  }
}

TEST(Writer, GeneralAlignmentIsHonoured) {
  Writer w;
  w.set_u32("general.alignment", 256);
  ASSERT_TRUE(w.add_tensor_f32("a", {3}, TensorType::kF32, ramp(3)).ok());
  ASSERT_TRUE(w.add_tensor_f32("b", {5}, TensorType::kF32, ramp(5)).ok());
  auto f = write_and_open(w, "align.gguf");
  ASSERT_TRUE(f.ok()) << f.status().to_string();
  EXPECT_EQ(f->alignment(), 256u);
  EXPECT_EQ(f->data_offset() % 256, 0u);
  EXPECT_EQ(f->tensors()[1].offset, 256u);
  EXPECT_EQ(f->file_size(), f->data_offset() + 512);  // the last tensor is padded too
}

TEST(Writer, LazyTensorsAreFilledAtWriteTime) {
  Writer w;
  int calls = 0;
  ASSERT_TRUE(
      w.add_tensor_lazy("lazy", {32, 2}, TensorType::kQ8_0, [&calls](std::span<std::uint8_t> out) {
         ++calls;
         const auto v = ramp(64);
         quantize_row(TensorType::kQ8_0, v.data(), out.data(), 64);
         return Status();
       }).ok());
  EXPECT_EQ(calls, 0);
  auto f = write_and_open(w, "lazy.gguf");
  ASSERT_TRUE(f.ok()) << f.status().to_string();
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(f->tensors()[0].n_bytes, 68u);
}

TEST(Writer, BadTensorsAreRefusedWithTheirName) {
  Writer w;
  const auto v = ramp(64);
  Status s = w.add_tensor("t", {64}, TensorType::kF32, std::vector<std::uint8_t>(10));
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("tensor 't': 10 bytes of data (expected 256)"), std::string::npos)
      << s.message();
  s = w.add_tensor_f32("q", {48}, TensorType::kQ8_0, ramp(48));
  EXPECT_NE(s.message().find("row length 48 is not a multiple of Q8_0's block of 32"),
            std::string::npos)
      << s.message();
  s = w.add_tensor_f32("k", {256}, TensorType::kQ4_K, ramp(256));
  EXPECT_EQ(s.code(), StatusCode::kUnimplemented);
  EXPECT_NE(s.message().find("cannot encode fp32 values as Q4_K"), std::string::npos)
      << s.message();
  s = w.add_tensor_f32("five", {1, 1, 1, 1, 64}, TensorType::kF32, v);
  EXPECT_NE(s.message().find("5 dimensions (expected 1..4)"), std::string::npos) << s.message();
  s = w.add_tensor_f32("n", {8}, TensorType::kF32, v);
  EXPECT_NE(s.message().find("64 values (expected 8)"), std::string::npos) << s.message();
  s = w.add_tensor("iq", {256}, static_cast<TensorType>(17), std::vector<std::uint8_t>(74));
  EXPECT_EQ(s.code(), StatusCode::kUnimplemented);
  EXPECT_NE(s.message().find("type IQ2_XS cannot be written"), std::string::npos) << s.message();
  s = w.add_tensor_f32("huge", {1ull << 40, 1ull << 40}, TensorType::kF32, v);
  EXPECT_NE(s.message().find("overflow"), std::string::npos) << s.message();
  ASSERT_TRUE(w.add_tensor_f32("ok", {64}, TensorType::kF32, v).ok());
  s = w.add_tensor_f32("ok", {64}, TensorType::kF32, v);
  EXPECT_NE(s.message().find("tensor 'ok': added twice"), std::string::npos) << s.message();
  s = w.add_tensor_f32("", {64}, TensorType::kF32, v);
  EXPECT_NE(s.message().find("tensor name of 0 bytes"), std::string::npos) << s.message();
}

TEST(Writer, BadMetadataFailsTheWriteNamingPathAndKey) {
  const std::string path = temp_path("badmeta.gguf");
  Writer w;
  w.set_u64("general.alignment", 64);
  Status s = w.write(path);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find(path), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("'general.alignment' has type uint64 (expected uint32)"),
            std::string::npos);
  w.set_u32("general.alignment", 48);
  s = w.write(path);
  EXPECT_NE(s.message().find("is 48 (expected a power of two)"), std::string::npos) << s.message();
  w.set_u32("general.alignment", 32);
  w.set("bad", testing::make_value(ValueType::kUint8, std::uint64_t{300}));
  s = w.write(path);
  EXPECT_NE(s.message().find("key 'bad': value 300 does not fit uint8"), std::string::npos)
      << s.message();
  w.set("bad", testing::make_value(ValueType::kString, std::uint64_t{1}));
  s = w.write(path);
  EXPECT_NE(s.message().find("key 'bad': string value does not hold a string"), std::string::npos)
      << s.message();
  Array mixed;
  mixed.elem_type = ValueType::kInt32;
  mixed.items = {testing::make_value(ValueType::kInt32, std::int64_t{1}),
                 testing::make_value(ValueType::kString, std::string("x"))};
  w.set("bad", testing::make_value(ValueType::kArray, mixed));
  s = w.write(path);
  EXPECT_NE(s.message().find("item 1 has type string (expected int32)"), std::string::npos)
      << s.message();
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(Writer, FailedWriteLeavesTheOldFileAndNoTemporary) {
  const auto dir = lpu::testing::temp_dir() / "atomic";
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "m.gguf").string();
  std::ofstream(path) << "old contents";
  Writer w;
  ASSERT_TRUE(w.add_tensor_lazy("t", {4}, TensorType::kF32, [](std::span<std::uint8_t>) {
                 return data_loss("generator broke");
               }).ok());
  const Status s = w.write(path);
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
  EXPECT_NE(s.message().find(path + ": tensor 't': generator broke"), std::string::npos)
      << s.message();
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(text, "old contents");
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir), {}), 1);
}

TEST(Writer, UnwritableDirectoryIsAnErrorNamingThePath) {
  Writer w;
  const std::string path = "/nonexistent-dir-lpu/x.gguf";
  const Status s = w.write(path);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find(path), std::string::npos) << s.message();
}

TEST(Writer, WrittenFilesAreWorldReadable) {
  Writer w;
  const std::string path = temp_path("mode.gguf");
  ASSERT_TRUE(w.write(path).ok());
  struct stat st {};
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
}

}  // namespace
}  // namespace lpu::gguf
