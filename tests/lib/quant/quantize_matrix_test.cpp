// lib/quant: the group-size rule, weight quantisation and its inverse.

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "kernels/reference/int8_reference.h"
#include "lib/quant/quant_config.h"
#include "lib/quant/quantize_matrix.h"
#include "tests/testing/gemm_tester.h"

namespace lpu::quant {
namespace {

std::vector<float> random_matrix(std::size_t n, std::uint64_t seed) {
  std::vector<float> x(n);
  std::uint64_t state = seed;
  for (float& v : x) {
    const std::uint64_t b = testing::splitmix64(state);
    v = (static_cast<float>(b >> 40) * 0x1.0p-24f - 0.5f) * std::ldexp(1.0f, int(b % 8) - 4);
  }
  return x;
}

TEST(QuantConfigTest, GroupSizeRule) {
  for (std::size_t g : {32, 64, 256, 320, 65536}) EXPECT_TRUE(validate({g}).ok()) << g;
  for (std::size_t g : {0, 16, 33, 100, 65568}) {
    const Status s = validate({g});
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << g;
    EXPECT_NE(s.message().find(std::to_string(g)), std::string::npos) << s.message();
  }
  EXPECT_EQ(QuantConfig{}.group_size, kDefaultGroupSize);
}

TEST(QuantizeMatrixTest, RejectsBadShapes) {
  const std::vector<float> x(10, 1.0f);
  EXPECT_EQ(quantize_matrix(x, 3, 4, {}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(quantize_matrix(x, 0, 10, {}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(quantize_matrix(x, 1, 10, {48}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(quantize_matrix(x, 2, 5, {32}).ok());
}

// Each value comes back within half a step of its group (plus the rounding
// of the product), for full and partial last groups.
TEST(QuantizeMatrixTest, RoundTripWithinHalfAStep) {
  for (std::size_t g : {32, 64, 256, 320}) {
    for (std::size_t k : {1, 31, 100, 257, 700}) {
      const std::size_t rows = 5;
      const std::vector<float> x = random_matrix(rows * k, g + k);
      auto q = quantize_matrix(x, rows, k, {g});
      ASSERT_TRUE(q.ok()) << q.status().to_string();
      const std::vector<float> back = dequantize_matrix(*q);
      for (std::size_t r = 0; r < rows; ++r) {
        for (std::size_t i = 0; i < k; ++i) {
          const float scale = q->scales(r)[i / g];
          const float err = std::fabs(back[r * k + i] - x[r * k + i]);
          ASSERT_LE(err, 0.5f * scale * (1.0f + 1e-5f)) << "k=" << k << " G=" << g;
        }
      }
    }
  }
}

// Values already on the grid of a group come back exactly, and quantising
// them again gives the same bytes.
TEST(QuantizeMatrixTest, GridValuesAreFixedPoints) {
  const std::size_t k = 300, g = 64;
  std::vector<float> x(k);
  for (std::size_t i = 0; i < k; ++i) {
    const int q = static_cast<int>(i * 37 % 255) - 127;
    x[i] = static_cast<float>(i % g == 0 ? 127 : q) * 0.25f;
  }
  auto q = quantize_matrix(x, 1, k, {g});
  ASSERT_TRUE(q.ok());
  const std::vector<float> back = dequantize_matrix(*q);
  EXPECT_EQ(std::memcmp(back.data(), x.data(), k * sizeof(float)), 0);
  auto again = quantize_matrix(back, 1, k, {g});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(std::memcmp(again->row(0), q->row(0), k), 0);
}

TEST(QuantizeMatrixTest, EqualsTheRowOracle) {
  const std::size_t rows = 7, k = 333, g = 320;
  const std::vector<float> x = random_matrix(rows * k, 3);
  auto q = quantize_matrix(x, rows, k, {g});
  ASSERT_TRUE(q.ok());
  std::vector<std::int8_t> rq(k);
  std::vector<float> rs(q->groups());
  std::vector<std::int32_t> rsum(q->groups());
  for (std::size_t r = 0; r < rows; ++r) {
    kernels::quantize_row_reference(x.data() + r * k, k, g, rq.data(), rs.data(), rsum.data());
    EXPECT_EQ(std::memcmp(q->row(r), rq.data(), k), 0);
    EXPECT_EQ(std::memcmp(q->scales(r), rs.data(), rs.size() * sizeof(float)), 0);
  }
}

}  // namespace
}  // namespace lpu::quant
