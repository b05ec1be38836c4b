// SiLU x mul and the residual add: the exact per-element formulas on every
// path, tails included.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "kernels/float/float_kernels.h"
#include "kernels/math/math.h"
#include "tests/kernels/float_test_util.h"

namespace lpu::kernels {
namespace {

using testing::random_floats;

TEST(SiluMulF32, IsSiluTimesUpAndAccurate) {
  const FloatKernels& k = float_kernels();
  double worst = 0.0;
  for (std::size_t n : testing::row_lengths()) {
    const std::vector<float> g = random_floats(n, static_cast<std::uint32_t>(n), -20.0f, 20.0f);
    const std::vector<float> u = random_floats(n, static_cast<std::uint32_t>(n) + 1, -3.0f, 3.0f);
    std::vector<float> y(n);
    k.silu_mul(g.data(), u.data(), n, y.data());
    std::vector<float> want(n);
    for (std::size_t i = 0; i < n; ++i) {
      want[i] = silu_f32(g[i]) * u[i];
      const long double lg = g[i];
      worst = std::max(worst, testing::ulp_error(y[i], lg / (1.0L + std::exp(-lg)) * u[i]));
    }
    ASSERT_TRUE(testing::all_same_bits(want, y)) << "n = " << n;
  }
  EXPECT_LE(worst, 3.5);
}

TEST(AddF32, IsExactSumInPlace) {
  const FloatKernels& k = float_kernels();
  for (std::size_t n : testing::row_lengths()) {
    std::vector<float> a = random_floats(n, static_cast<std::uint32_t>(n), -5.0f, 5.0f);
    const std::vector<float> b = random_floats(n, static_cast<std::uint32_t>(n) + 9, -5.0f, 5.0f);
    std::vector<float> want(n);
    for (std::size_t i = 0; i < n; ++i) want[i] = a[i] + b[i];
    k.add(a.data(), b.data(), n, a.data());
    ASSERT_TRUE(testing::all_same_bits(want, a)) << "n = " << n;
  }
}

using ActivationIsaTest = testing::FloatIsaTest;

TEST_P(ActivationIsaTest, BitIdenticalToPortable) {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (std::size_t n : testing::row_lengths()) {
    std::vector<float> g = random_floats(n, static_cast<std::uint32_t>(n) * 5, -100.0f, 100.0f);
    std::vector<float> u = random_floats(n, static_cast<std::uint32_t>(n) * 5 + 1, -4.0f, 4.0f);
    if (n > 6) {
      g[1] = inf;
      g[2] = -inf;
      g[3] = nan;
      u[4] = inf;
      g[5] = -0.0f;
    }
    std::vector<float> p(n);
    std::vector<float> v(n);
    portable_->silu_mul(g.data(), u.data(), n, p.data());
    simd_->silu_mul(g.data(), u.data(), n, v.data());
    ASSERT_TRUE(testing::all_same_bits(p, v)) << "silu_mul n = " << n;
    portable_->add(g.data(), u.data(), n, p.data());
    simd_->add(g.data(), u.data(), n, v.data());
    ASSERT_TRUE(testing::all_same_bits(p, v)) << "add n = " << n;
  }
}

INSTANTIATE_TEST_SUITE_P(Isa, ActivationIsaTest, ::testing::ValuesIn(testing::simd_isas()),
                         testing::isa_param_name);

}  // namespace
}  // namespace lpu::kernels
