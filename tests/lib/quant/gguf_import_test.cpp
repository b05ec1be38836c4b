// GGUF import into the int8 scheme: Q8_0 at G = 32 is lossless; other
// types and group sizes equal dequantise-then-quantise.

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "lib/gguf/dequantize.h"
#include "lib/gguf/file.h"
#include "lib/quant/gguf_import.h"
#include "lib/quant/quantize_matrix.h"
#include "tests/testing/gemm_tester.h"
#include "tests/testing/test_paths.h"

namespace lpu::quant {
namespace {

// Q8_0 blocks of x (rows of k) made with ggml's rule: d = amax / 127,
// q = roundf(x / d) with the fp32 d, d stored as f16. One block's q is
// forced to -128 to check the import copies what no quantiser makes.
std::vector<std::uint8_t> make_q8_0(const std::vector<float>& x) {
  std::vector<std::uint8_t> out;
  for (std::size_t b = 0; b < x.size() / 32; ++b) {
    float amax = 0.0f;
    for (std::size_t j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(x[b * 32 + j]));
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    const std::uint16_t h = gguf::f32_to_f16(d);
    out.push_back(static_cast<std::uint8_t>(h & 0xFF));
    out.push_back(static_cast<std::uint8_t>(h >> 8));
    for (std::size_t j = 0; j < 32; ++j) {
      const auto q = static_cast<std::int8_t>(std::roundf(x[b * 32 + j] * id));
      out.push_back(static_cast<std::uint8_t>(b == 3 && j == 5 ? -128 : q));
    }
  }
  return out;
}

std::vector<float> random_values(std::size_t n, std::uint64_t seed) {
  std::vector<float> x(n);
  std::uint64_t state = seed;
  for (float& v : x) {
    const std::uint64_t b = testing::splitmix64(state);
    v = (static_cast<float>(b >> 40) * 0x1.0p-24f - 0.5f) * std::ldexp(1.0f, int(b % 6) - 3);
  }
  return x;
}

void put(std::vector<std::uint8_t>& out, const void* p, std::size_t n) {
  const auto* b = static_cast<const std::uint8_t*>(p);
  out.insert(out.end(), b, b + n);
}
template <typename T>
void put(std::vector<std::uint8_t>& out, T v) {
  put(out, &v, sizeof(v));
}

// A GGUF v3 file in memory with one tensor of `type` and shape [k, rows].
std::vector<std::uint8_t> one_tensor_gguf(gguf::TensorType type, std::size_t k, std::size_t rows,
                                          const std::vector<std::uint8_t>& data) {
  std::vector<std::uint8_t> f;
  put<std::uint32_t>(f, gguf::kMagic);
  put<std::uint32_t>(f, 3);
  put<std::uint64_t>(f, 1);  // tensors
  put<std::uint64_t>(f, 0);  // metadata
  const std::string name = "blk.0.ffn_up.weight";
  put<std::uint64_t>(f, name.size());
  put(f, name.data(), name.size());
  put<std::uint32_t>(f, 2);
  put<std::uint64_t>(f, k);
  put<std::uint64_t>(f, rows);
  put<std::uint32_t>(f, static_cast<std::uint32_t>(type));
  put<std::uint64_t>(f, 0);
  f.resize((f.size() + 31) / 32 * 32, 0);
  put(f, data.data(), data.size());
  return f;
}

TEST(ImportQ8_0Test, LosslessAtGroup32) {
  const std::size_t rows = 6, k = 160;
  const std::vector<std::uint8_t> blocks = make_q8_0(random_values(rows * k, 1));
  auto q = import_q8_0(blocks, rows, k);
  ASSERT_TRUE(q.ok()) << q.status().to_string();
  EXPECT_EQ(q->group_size(), 32u);
  std::vector<float> expected(rows * k);
  gguf::dequantize_row(gguf::TensorType::kQ8_0, blocks.data(), expected.data(), rows * k);
  const std::vector<float> back = dequantize_matrix(*q);
  EXPECT_EQ(std::memcmp(back.data(), expected.data(), back.size() * sizeof(float)), 0);
  EXPECT_EQ(q->row(0)[3 * 32 + 5], -128);
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t b = 0; b < k / 32; ++b) {
      const std::uint8_t* block = blocks.data() + (r * k / 32 + b) * 34;
      EXPECT_EQ(std::memcmp(q->row(r) + b * 32, block + 2, 32), 0);
    }
  }
}

TEST(ImportQ8_0Test, RejectsBadSizes) {
  const std::vector<std::uint8_t> blocks(34 * 4, 0);
  EXPECT_EQ(import_q8_0(blocks, 2, 48).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(import_q8_0(blocks, 3, 32).status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(import_q8_0(blocks, 2, 64).ok());
}

TEST(ImportTensorTest, Q8_0TensorAtGroup32IsLossless) {
  const std::size_t rows = 5, k = 96;
  const std::vector<std::uint8_t> blocks = make_q8_0(random_values(rows * k, 2));
  auto file =
      gguf::File::from_bytes(one_tensor_gguf(gguf::TensorType::kQ8_0, k, rows, blocks), "q8.gguf");
  ASSERT_TRUE(file.ok()) << file.status().to_string();
  const gguf::TensorInfo& t = file->tensors()[0];
  auto q = import_tensor(*file, t, {32});
  ASSERT_TRUE(q.ok()) << q.status().to_string();
  auto direct = import_q8_0(blocks, rows, k);
  ASSERT_TRUE(direct.ok());
  for (std::size_t r = 0; r < rows; ++r) {
    EXPECT_EQ(std::memcmp(q->row(r), direct->row(r), k), 0);
    EXPECT_EQ(std::memcmp(q->scales(r), direct->scales(r), 3 * sizeof(float)), 0);
  }
}

TEST(ImportTensorTest, OtherGroupSizesRequantise) {
  const std::size_t rows = 4, k = 640;
  const std::vector<std::uint8_t> blocks = make_q8_0(random_values(rows * k, 3));
  auto file =
      gguf::File::from_bytes(one_tensor_gguf(gguf::TensorType::kQ8_0, k, rows, blocks), "q8.gguf");
  ASSERT_TRUE(file.ok()) << file.status().to_string();
  for (std::size_t g : {64, 256, 320}) {
    auto q = import_tensor(*file, file->tensors()[0], {g});
    ASSERT_TRUE(q.ok()) << q.status().to_string();
    auto values = gguf::dequantize_tensor(*file, file->tensors()[0]);
    ASSERT_TRUE(values.ok());
    auto expected = quantize_matrix(*values, rows, k, {g});
    ASSERT_TRUE(expected.ok());
    for (std::size_t r = 0; r < rows; ++r) {
      EXPECT_EQ(std::memcmp(q->row(r), expected->row(r), k), 0) << "G=" << g;
      EXPECT_EQ(std::memcmp(q->scales(r), expected->scales(r), q->groups() * sizeof(float)), 0);
    }
  }
  EXPECT_EQ(import_tensor(*file, file->tensors()[0], {40}).status().code(),
            StatusCode::kInvalidArgument);
}

// A Q4_1 tensor of the real SmolLM2 file: import = dequantise + quantise.
TEST(ImportTensorTest, Q4_1ModelTensorRequantises) {
  const auto path = testing::smollm2_q4_1_path();
  LPU_REQUIRE_FILE(path, "SmolLM2-135M-Instruct Q4_1");
  auto file = gguf::File::open(path.string());
  ASSERT_TRUE(file.ok()) << file.status().to_string();
  const gguf::TensorInfo* t = file->find_tensor("blk.0.ffn_up.weight");
  ASSERT_NE(t, nullptr);
  ASSERT_EQ(t->type, gguf::TensorType::kQ4_1);
  auto q = import_tensor(*file, *t, {});
  ASSERT_TRUE(q.ok()) << q.status().to_string();
  auto values = gguf::dequantize_tensor(*file, *t);
  ASSERT_TRUE(values.ok());
  auto expected = quantize_matrix(*values, t->n_rows(), t->row_length(), {});
  ASSERT_TRUE(expected.ok());
  EXPECT_EQ(q->rows(), t->n_rows());
  for (std::size_t r = 0; r < q->rows(); ++r) {
    ASSERT_EQ(std::memcmp(q->row(r), expected->row(r), q->k()), 0) << "row " << r;
  }
}

}  // namespace
}  // namespace lpu::quant
