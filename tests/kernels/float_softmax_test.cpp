// Softmax: every SIMD path equals the portable one bit for bit; accuracy
// against long double; masked (-inf) entries, degenerate rows.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "kernels/float/float_kernels.h"
#include "tests/kernels/float_test_util.h"

namespace lpu::kernels {
namespace {

using testing::random_floats;

constexpr float kInf = std::numeric_limits<float>::infinity();

TEST(SoftmaxF32, AccurateAgainstLongDouble) {
  const FloatKernels& k = float_kernels();
  double worst = 0.0;
  for (std::size_t n : testing::row_lengths()) {
    const std::vector<float> x = random_floats(n, static_cast<std::uint32_t>(n), -12.0f, 12.0f);
    std::vector<float> y(n);
    k.softmax(x.data(), n, y.data());
    float max = -kInf;
    for (float v : x) max = std::max(max, v);
    // x - max is a float subtraction in every implementation; the reference
    // takes it as given and measures the kernel's own error.
    long double sum = 0.0L;
    std::vector<long double> e(n);
    for (std::size_t i = 0; i < n; ++i) {
      e[i] = std::exp(static_cast<long double>(x[i] - max));
      sum += e[i];
    }
    double total = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
      worst = std::max(worst, testing::ulp_error(y[i], e[i] / sum));
      total += y[i];
    }
    EXPECT_NEAR(total, 1.0, 1e-5) << "n = " << n;
  }
  EXPECT_LE(worst, 3.0);
}

TEST(SoftmaxF32, MaskedEntriesAndDegenerateRows) {
  const FloatKernels& k = float_kernels();
  std::vector<float> x = {1.0f, -kInf, 2.0f, -kInf, -kInf};
  std::vector<float> y(x.size());
  k.softmax(x.data(), x.size(), y.data());
  EXPECT_EQ(y[1], 0.0f);
  EXPECT_EQ(y[3], 0.0f);
  EXPECT_NEAR(y[0] + y[2], 1.0f, 1e-7f);
  const float one = 3.5f;
  float out = 0.0f;
  k.softmax(&one, 1, &out);
  EXPECT_EQ(out, 1.0f);
  std::vector<float> same(19, -7.25f);
  k.softmax(same.data(), same.size(), same.data());  // in place
  for (float v : same) EXPECT_EQ(v, same[0]);
  std::vector<float> all_masked(9, -kInf);
  k.softmax(all_masked.data(), all_masked.size(), all_masked.data());
  for (float v : all_masked) EXPECT_TRUE(std::isnan(v));
  // Large logits stay finite: the maximum is subtracted first.
  std::vector<float> big = {1e30f, 1e30f, 0.0f};
  k.softmax(big.data(), big.size(), big.data());
  EXPECT_EQ(big[0], 0.5f);
  EXPECT_EQ(big[2], 0.0f);
}

using SoftmaxIsaTest = testing::FloatIsaTest;

TEST_P(SoftmaxIsaTest, BitIdenticalToPortable) {
  for (std::size_t n : testing::row_lengths()) {
    for (float range : {1.0f, 30.0f, 200.0f}) {
      std::vector<float> x = random_floats(n, static_cast<std::uint32_t>(n) * 3, -range, range);
      if (n > 4) x[n / 2] = -kInf;  // a masked position
      std::vector<float> p(n);
      std::vector<float> v(n);
      portable_->softmax(x.data(), n, p.data());
      simd_->softmax(x.data(), n, v.data());
      ASSERT_TRUE(testing::all_same_bits(p, v)) << "n = " << n << " range " << range;
    }
  }
}

TEST_P(SoftmaxIsaTest, SpecialValuesMatchPortable) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (float special : {kInf, -kInf, nan, -0.0f, std::numeric_limits<float>::denorm_min()}) {
    for (std::size_t at : {0, 15, 16, 40}) {
      std::vector<float> x = random_floats(41, 5, -4.0f, 4.0f);
      x[at] = special;
      std::vector<float> p(41);
      std::vector<float> v(41);
      portable_->softmax(x.data(), x.size(), p.data());
      simd_->softmax(x.data(), x.size(), v.data());
      EXPECT_TRUE(testing::all_same_bits(p, v)) << special << " at " << at;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Isa, SoftmaxIsaTest, ::testing::ValuesIn(testing::simd_isas()),
                         testing::isa_param_name);

}  // namespace
}  // namespace lpu::kernels
