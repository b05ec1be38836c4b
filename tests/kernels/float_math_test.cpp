// exp, rsqrt and SiLU: accuracy against long double, special values, and the
// SIMD lanes against the scalar function bit for bit.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "kernels/math/math.h"
#include "tests/kernels/float_test_util.h"

namespace lpu::kernels {
namespace {

using testing::ulp_error;

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kDenormMin = std::numeric_limits<float>::denorm_min();

// Every stride-th float bit pattern with |x| up to `limit`, both signs.
std::vector<float> float_grid(float limit, std::uint32_t stride) {
  std::vector<float> xs;
  const auto top = std::bit_cast<std::uint32_t>(limit);
  for (std::uint32_t b = 0; b <= top; b += stride) {
    xs.push_back(std::bit_cast<float>(b));
    xs.push_back(-std::bit_cast<float>(b));
  }
  return xs;
}

TEST(ExpF32, WithinOneUlpOverTheNormalRange) {
  double worst = 0.0;
  float worst_x = 0.0f;
  for (float x : float_grid(88.0f, 1021)) {
    if (x < -87.0f) continue;
    const double e = ulp_error(exp_f32(x), std::exp(static_cast<long double>(x)));
    if (e > worst) {
      worst = e;
      worst_x = x;
    }
  }
  EXPECT_LE(worst, 1.0) << "at x = " << worst_x;
}

TEST(ExpF32, GradualUnderflowAndOverflowEdges) {
  // Subnormal results: error below one subnormal ulp.
  for (float x = -87.5f; x > -103.9f; x -= 0.0173f) {
    EXPECT_LE(ulp_error(exp_f32(x), std::exp(static_cast<long double>(x))), 1.0) << x;
  }
  EXPECT_EQ(exp_f32(-104.0f), 0.0f);
  EXPECT_EQ(exp_f32(-1000.0f), 0.0f);
  EXPECT_GT(exp_f32(-103.0f), 0.0f);       // exp(-103) ~ 1.8e-45 rounds to the smallest subnormal
  const float below_overflow = 88.72283f;  // ln(FLT_MAX) = 88.7228391...
  EXPECT_TRUE(std::isfinite(exp_f32(below_overflow)));
  EXPECT_LE(ulp_error(exp_f32(below_overflow), std::exp(static_cast<long double>(below_overflow))),
            1.0);
  EXPECT_EQ(exp_f32(88.7229f), kInf);
  EXPECT_EQ(exp_f32(100.0f), kInf);
}

TEST(ExpF32, SpecialValues) {
  EXPECT_EQ(exp_f32(0.0f), 1.0f);
  EXPECT_EQ(exp_f32(-0.0f), 1.0f);
  EXPECT_EQ(exp_f32(kDenormMin), 1.0f);
  EXPECT_EQ(exp_f32(-kDenormMin), 1.0f);
  EXPECT_EQ(exp_f32(std::numeric_limits<float>::min()), 1.0f);
  EXPECT_EQ(exp_f32(kInf), kInf);
  EXPECT_EQ(exp_f32(-kInf), 0.0f);
  EXPECT_FALSE(std::signbit(exp_f32(-kInf)));
  EXPECT_TRUE(std::isnan(exp_f32(kNaN)));
  EXPECT_TRUE(std::isnan(exp_f32(-kNaN)));
  EXPECT_EQ(exp_f32(1.0f), 2.71828182845904523536f);
}

// Two roundings: 0.5 ulp of sqrt, which 1/s carries into a binade where it
// can weigh up to one ulp, plus 0.5 ulp of the division.
TEST(Rsqrt, WithinOneAndAHalfUlpAndSpecialValues) {
  double worst = 0.0;
  for (float x : float_grid(std::numeric_limits<float>::max(), 4099)) {
    if (x <= 0.0f) continue;
    const long double ref = 1.0L / std::sqrt(static_cast<long double>(x));
    worst = std::max(worst, ulp_error(rsqrt_f32(x), ref));
  }
  EXPECT_LT(worst, 1.5);
  EXPECT_EQ(rsqrt_f32(4.0f), 0.5f);
  EXPECT_EQ(rsqrt_f32(0.0f), kInf);
  EXPECT_EQ(rsqrt_f32(-0.0f), -kInf);
  EXPECT_EQ(rsqrt_f32(kInf), 0.0f);
  EXPECT_TRUE(std::isnan(rsqrt_f32(-1.0f)));
  EXPECT_TRUE(std::isnan(rsqrt_f32(kNaN)));
  EXPECT_TRUE(std::isfinite(rsqrt_f32(kDenormMin)));
}

TEST(Silu, WithinThreeUlpAndLimits) {
  double worst = 0.0;
  float worst_x = 0.0f;
  for (float x : float_grid(80.0f, 4099)) {
    const auto lx = static_cast<long double>(x);
    const double e = ulp_error(silu_f32(x), lx / (1.0L + std::exp(-lx)));
    if (e > worst) {
      worst = e;
      worst_x = x;
    }
  }
  EXPECT_LE(worst, 3.0) << "at x = " << worst_x;
  EXPECT_EQ(silu_f32(0.0f), 0.0f);
  EXPECT_EQ(silu_f32(200.0f), 200.0f);
  EXPECT_EQ(silu_f32(-200.0f), 0.0f);  // -200 / inf = -0
  EXPECT_EQ(silu_f32(kInf), kInf);
  EXPECT_TRUE(std::isnan(silu_f32(-kInf)));  // -inf / inf, as the reference forward pass
  EXPECT_TRUE(std::isnan(silu_f32(kNaN)));
}

using FloatMathIsaTest = testing::FloatIsaTest;

// Each SIMD lane computes exactly the scalar exp_f32, over the whole range
// including underflow, overflow and special values, at every tail length.
TEST_P(FloatMathIsaTest, ExpLanesEqualScalar) {
  std::vector<float> xs = float_grid(110.0f, 997);
  for (float s : {0.0f, -0.0f, kInf, -kInf, kNaN, kDenormMin, -kDenormMin, 88.72283f, 88.7229f,
                  -87.33654f, -103.97208f, -104.0f}) {
    xs.push_back(s);
  }
  std::vector<float> want(xs.size());
  for (std::size_t i = 0; i < xs.size(); ++i) want[i] = exp_f32(xs[i]);
  std::vector<float> got(xs.size());
  simd_->exp(xs.data(), xs.size(), got.data());
  EXPECT_TRUE(testing::all_same_bits(want, got));
  for (std::size_t n : testing::row_lengths()) {
    const std::vector<float> x =
        testing::random_floats(n, static_cast<std::uint32_t>(n), -90.0f, 90.0f);
    std::vector<float> p(n);
    std::vector<float> v(n);
    portable_->exp(x.data(), n, p.data());
    simd_->exp(x.data(), n, v.data());
    ASSERT_TRUE(testing::all_same_bits(p, v)) << "n = " << n;
  }
}

TEST_P(FloatMathIsaTest, SiluLanesEqualScalar) {
  const std::vector<float> xs = float_grid(100.0f, 1999);
  const std::vector<float> ones(xs.size(), 1.0f);
  std::vector<float> want(xs.size());
  for (std::size_t i = 0; i < xs.size(); ++i) want[i] = silu_f32(xs[i]);
  std::vector<float> got(xs.size());
  simd_->silu_mul(xs.data(), ones.data(), xs.size(), got.data());
  EXPECT_TRUE(testing::all_same_bits(want, got));
}

INSTANTIATE_TEST_SUITE_P(Isa, FloatMathIsaTest, ::testing::ValuesIn(testing::simd_isas()),
                         testing::isa_param_name);

}  // namespace
}  // namespace lpu::kernels
