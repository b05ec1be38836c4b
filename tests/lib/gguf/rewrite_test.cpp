#include "lib/gguf/rewrite.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>

#include "lib/gguf/dequantize.h"
#include "lib/gguf/file.h"
#include "lib/gguf/writer.h"
#include "tests/testing/test_paths.h"

namespace lpu::gguf {
namespace {

std::string temp_path(const std::string& name) {
  return (lpu::testing::temp_dir() / name).string();
}

// Every tensor of `dst` is F32 and equals the dequantised tensor of `src`.
void expect_f32_copy(const File& src, const File& dst) {
  ASSERT_EQ(src.tensors().size(), dst.tensors().size());
  for (const TensorInfo& t : src.tensors()) {
    const TensorInfo* out = dst.find_tensor(t.name);
    ASSERT_NE(out, nullptr) << t.name;
    EXPECT_EQ(out->type, TensorType::kF32) << t.name;
    EXPECT_EQ(out->dims, t.dims) << t.name;
    const auto want = *dequantize_tensor(src, t);
    const auto got = *dequantize_tensor(dst, *out);
    ASSERT_EQ(got.size(), want.size());
    EXPECT_EQ(0, std::memcmp(got.data(), want.data(), want.size() * 4)) << t.name;
  }
}

TEST(RewriteAsF32, QuantisedTensorsBecomeTheirDequantisedValues) {
  for (const char* name : {"types.gguf", "kquants.gguf", "metadata.gguf"}) {
    const std::string src = (lpu::testing::source_dir() / "tests/data/gguf" / name).string();
    const std::string dst = temp_path(std::string("f32-") + name);
    ASSERT_TRUE(rewrite_as_f32(src, dst).ok()) << name;
    auto in = File::open(src);
    auto out = File::open(dst);
    ASSERT_TRUE(in.ok() && out.ok()) << name;
    expect_f32_copy(*in, *out);
    EXPECT_EQ(out->alignment(), in->alignment()) << name;
    // All metadata copied in order, then quantization_version and file_type.
    const auto& m = out->metadata();
    ASSERT_GE(m.size(), 2u);
    EXPECT_EQ(m[m.size() - 2].key, "general.quantization_version");
    EXPECT_EQ(m.back().key, "general.file_type");
    EXPECT_EQ(*out->get_int("general.file_type"), 0);
    std::size_t k = 0;
    for (const KeyValue& kv : in->metadata()) {
      if (kv.key == "general.file_type" || kv.key == "general.quantization_version") continue;
      ASSERT_LT(k, m.size());
      EXPECT_EQ(m[k].key, kv.key);
      EXPECT_EQ(m[k].value.to_display_string(1000), kv.value.to_display_string(1000)) << kv.key;
      ++k;
    }
    EXPECT_EQ(k + 2, m.size()) << name;
  }
}

TEST(RewriteAsF32, OrdersTensorsByBlockThenNameAndDropsSplitKeys) {
  Writer w;
  w.set_u32("general.file_type", 7);
  w.set_u16("split.count", 1);
  w.set_string("z.last", "kept");
  const std::vector<float> v(32, 0.5f);
  for (const char* name : {"blk.10.a", "output.weight", "blk.2.b", "blk.2.a", "blk.x",
                           "token_embd.weight", "blk.1.z"}) {
    ASSERT_TRUE(w.add_tensor_f32(name, {32}, TensorType::kQ8_0, v).ok());
  }
  const std::string src = temp_path("order-src.gguf");
  const std::string dst = temp_path("order-dst.gguf");
  ASSERT_TRUE(w.write(src).ok());
  ASSERT_TRUE(rewrite_as_f32(src, dst).ok());
  auto out = File::open(dst);
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  std::vector<std::string> names;
  for (const TensorInfo& t : out->tensors()) names.push_back(t.name);
  EXPECT_EQ(names, (std::vector<std::string>{"blk.x", "output.weight", "token_embd.weight",
                                             "blk.1.z", "blk.2.a", "blk.2.b", "blk.10.a"}));
  EXPECT_EQ(out->find("split.count"), nullptr);
  EXPECT_EQ(*out->get_string("z.last"), "kept");
  EXPECT_EQ(*out->get_int("general.quantization_version"), 2);
}

TEST(RewriteAsF32, ErrorsNameTheFiles) {
  Status s = rewrite_as_f32("/nonexistent/in.gguf", temp_path("never.gguf"));
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_NE(s.message().find("/nonexistent/in.gguf"), std::string::npos);
  const std::string src = (lpu::testing::source_dir() / "tests/data/gguf/types.gguf").string();
  s = rewrite_as_f32(src, "/nonexistent-dir/out.gguf");
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("/nonexistent-dir/out.gguf"), std::string::npos);
}

TEST(RewriteAsF32, SmolLM2Q4_1) {
  const auto src = lpu::testing::smollm2_q4_1_path();
  LPU_REQUIRE_FILE(src, "SmolLM2-135M-Instruct Q4_1");
  const std::string dst = temp_path("smollm2-f32.gguf");
  ASSERT_TRUE(rewrite_as_f32(src.string(), dst).ok());
  auto in = File::open(src.string());
  auto out = File::open(dst);
  ASSERT_TRUE(in.ok() && out.ok());
  expect_f32_copy(*in, *out);
  EXPECT_EQ(out->file_size(), 539845696u);  // what llama.cpp's ALL_F32 quantiser writes
  std::filesystem::remove(dst);
}

}  // namespace
}  // namespace lpu::gguf
