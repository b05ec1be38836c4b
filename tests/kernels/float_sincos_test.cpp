// sin and cos: correctly rounded (to within 0.5 ulp + 1e-6) against long
// double over every float exponent, huge RoPE angles and special values.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>

#include "kernels/math/math.h"
#include "tests/kernels/float_test_util.h"

namespace lpu::kernels {
namespace {

using testing::ulp_error;

// Long double sinl/cosl reduce exactly with 64-bit precision: 2^-40 of a
// float ulp, enough to tell a correctly rounded float.
constexpr double kCorrectlyRounded = 0.5 + 1e-6;

void expect_correctly_rounded(float x) {
  float s = 0.0f;
  float c = 0.0f;
  sincos_f32(x, &s, &c);
  const auto lx = static_cast<long double>(x);
  EXPECT_LE(ulp_error(s, std::sin(lx)), kCorrectlyRounded) << "sin " << std::hexfloat << x;
  EXPECT_LE(ulp_error(c, std::cos(lx)), kCorrectlyRounded) << "cos " << std::hexfloat << x;
  EXPECT_EQ(std::bit_cast<std::uint32_t>(s), std::bit_cast<std::uint32_t>(sin_f32(x)));
  EXPECT_EQ(std::bit_cast<std::uint32_t>(c), std::bit_cast<std::uint32_t>(cos_f32(x)));
}

TEST(SinCosF32, CorrectlyRoundedOnAGridOfAllExponents) {
  for (std::uint32_t b = 0; b < 0x7F800000u; b += 65521) {
    const float x = std::bit_cast<float>(b);
    expect_correctly_rounded(x);
    expect_correctly_rounded(-x);
    if (HasFailure()) return;
  }
}

TEST(SinCosF32, CorrectlyRoundedForRopeAngles) {
  // pos * theta_i for positions up to 1M and the fastest frequency.
  std::mt19937 gen(7);
  std::uniform_real_distribution<float> dist(0.0f, 1.0e6f);
  for (int i = 0; i < 200000; ++i) {
    expect_correctly_rounded(dist(gen));
    if (HasFailure()) return;
  }
  for (float x : {1.0e5f, 131072.0f, 1.0e6f, 1.0e7f, 16777216.0f, 1.0e10f, 1.0e20f, 1.0e30f,
                  std::numeric_limits<float>::max(), 0.7853981f, 0.7853982f, 1.5707963f, 3.1415927f,
                  4.7123890f, 6.2831855f}) {
    expect_correctly_rounded(x);
    expect_correctly_rounded(-x);
  }
}

TEST(SinCosF32, NearMultiplesOfHalfPi) {
  // The floats nearest k * pi/2 have the smallest remainders, where a
  // reduction with too few bits of pi fails first.
  for (int k = 1; k < 200000; k += 7) {
    const auto x = static_cast<float>(static_cast<long double>(k) * 1.5707963267948966192L);
    expect_correctly_rounded(std::nextafter(x, 0.0f));
    expect_correctly_rounded(x);
    expect_correctly_rounded(std::nextafter(x, 1e30f));
    if (HasFailure()) return;
  }
}

TEST(SinCosF32, SpecialValues) {
  const float inf = std::numeric_limits<float>::infinity();
  const float denorm = std::numeric_limits<float>::denorm_min();
  EXPECT_EQ(sin_f32(0.0f), 0.0f);
  EXPECT_FALSE(std::signbit(sin_f32(0.0f)));
  EXPECT_TRUE(std::signbit(sin_f32(-0.0f)));
  EXPECT_EQ(cos_f32(0.0f), 1.0f);
  EXPECT_EQ(cos_f32(-0.0f), 1.0f);
  EXPECT_EQ(sin_f32(denorm), denorm);
  EXPECT_EQ(sin_f32(-denorm), -denorm);
  EXPECT_EQ(cos_f32(denorm), 1.0f);
  EXPECT_EQ(sin_f32(1e-20f), 1e-20f);
  for (float x : {inf, -inf, std::numeric_limits<float>::quiet_NaN()}) {
    EXPECT_TRUE(std::isnan(sin_f32(x)));
    EXPECT_TRUE(std::isnan(cos_f32(x)));
  }
}

}  // namespace
}  // namespace lpu::kernels
