// RoPE: the cos/sin table against long double, the NORM and NEOX rotations
// against a long double rotation, and every SIMD path against the portable
// one bit for bit (partial rotary, tails, many heads).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "kernels/float/float_kernels.h"
#include "kernels/math/math.h"
#include "kernels/rope/rope.h"
#include "tests/kernels/float_test_util.h"

namespace lpu::kernels {
namespace {

using testing::random_floats;

struct Shape {
  std::size_t n_heads;
  std::size_t head_dim;
  std::size_t n_dims;
};

constexpr Shape kShapes[] = {{1, 2, 2},     {3, 6, 6},   {2, 16, 16}, {9, 64, 64},   {4, 80, 80},
                             {2, 128, 128}, {3, 64, 32}, {5, 96, 62}, {1, 256, 256}, {2, 34, 34}};

float theta_scale(float base, std::size_t n_dims) {
  return std::pow(base, -2.0f / static_cast<float>(n_dims));
}

TEST(RopeCacheF32, CorrectlyRoundedCosSinOfTheReferenceAngles) {
  for (std::int64_t pos : {0, 1, 7, 100, 4095, 32767, 131071, 1000000}) {
    for (std::size_t n_dims : {2, 64, 128}) {
      const float scale = theta_scale(10000.0f, n_dims);
      std::vector<float> cs(n_dims);
      rope_cache_f32(pos, n_dims, scale, 1.0f, cs.data());
      float theta = static_cast<float>(pos);  // the angles as the reference builds them
      for (std::size_t i = 0; i < n_dims; i += 2) {
        const long double t = theta;
        EXPECT_LE(testing::ulp_error(cs[i], std::cos(t)), 0.5 + 1e-6) << pos << " " << i;
        EXPECT_LE(testing::ulp_error(cs[i + 1], std::sin(t)), 0.5 + 1e-6) << pos << " " << i;
        theta *= scale;
      }
    }
  }
}

TEST(RopeCacheF32, FromAnglesAppliesMscale) {
  const float angles[3] = {0.0f, 1.0f, 123456.7f};
  float cs[6];
  rope_cache_from_angles_f32(angles, 3, 2.0f, cs);
  EXPECT_EQ(cs[0], 2.0f);
  EXPECT_EQ(cs[1], 0.0f);
  float s = 0.0f;
  float c = 0.0f;
  sincos_f32(123456.7f, &s, &c);
  EXPECT_EQ(cs[4], c * 2.0f);
  EXPECT_EQ(cs[5], s * 2.0f);
}

// Rotates x by the table in long double: NORM pairs (2i, 2i+1), NEOX pairs
// (i, i + n_dims/2); the rest of each head unchanged.
std::vector<long double> rotate_reference(const std::vector<float>& x, const Shape& s,
                                          const std::vector<float>& cs, bool neox) {
  std::vector<long double> y(x.begin(), x.end());
  for (std::size_t h = 0; h < s.n_heads; ++h) {
    const std::size_t base = h * s.head_dim;
    for (std::size_t i = 0; i < s.n_dims / 2; ++i) {
      const std::size_t a = base + (neox ? i : 2 * i);
      const std::size_t b = base + (neox ? i + s.n_dims / 2 : 2 * i + 1);
      const long double c = cs[2 * i];
      const long double sn = cs[2 * i + 1];
      y[a] = x[a] * c - x[b] * sn;
      y[b] = x[a] * sn + x[b] * c;
    }
  }
  return y;
}

TEST(RopeF32, AccurateAgainstLongDoubleRotation) {
  const FloatKernels& k = float_kernels();
  for (bool neox : {false, true}) {
    for (const Shape& s : kShapes) {
      std::vector<float> cs(s.n_dims);
      rope_cache_f32(54321, s.n_dims, theta_scale(500000.0f, s.n_dims), 1.0f, cs.data());
      std::vector<float> x = random_floats(s.n_heads * s.head_dim, 17, -2.0f, 2.0f);
      const std::vector<long double> ref = rotate_reference(x, s, cs, neox);
      (neox ? k.rope_neox : k.rope_norm)(x.data(), s.n_heads, s.head_dim, s.n_dims, cs.data());
      for (std::size_t i = 0; i < x.size(); ++i) {
        // Two products and a sum: within 2^-22 of the pair's magnitude (<= 4).
        EXPECT_NEAR(static_cast<double>(x[i]), static_cast<double>(ref[i]), 4.0 * 0x1p-22)
            << (neox ? "neox " : "norm ") << s.head_dim << " i = " << i;
      }
      for (std::size_t h = 0; h < s.n_heads; ++h) {  // partial rotary leaves the rest alone
        for (std::size_t i = s.n_dims; i < s.head_dim; ++i) {
          EXPECT_EQ(static_cast<long double>(x[h * s.head_dim + i]), ref[h * s.head_dim + i]);
        }
      }
    }
  }
}

TEST(RopeF32, PositionZeroIsIdentity) {
  const FloatKernels& k = float_kernels();
  std::vector<float> cs(64);
  rope_cache_f32(0, 64, theta_scale(10000.0f, 64), 1.0f, cs.data());
  const std::vector<float> x0 = random_floats(4 * 64, 3, -1.0f, 1.0f);
  std::vector<float> x = x0;
  k.rope_norm(x.data(), 4, 64, 64, cs.data());
  EXPECT_TRUE(testing::all_same_bits(x0, x));
  k.rope_neox(x.data(), 4, 64, 64, cs.data());
  EXPECT_TRUE(testing::all_same_bits(x0, x));
}

using RopeIsaTest = testing::FloatIsaTest;

TEST_P(RopeIsaTest, BitIdenticalToPortable) {
  for (bool neox : {false, true}) {
    for (const Shape& s : kShapes) {
      for (std::int64_t pos : {1, 77, 100000, 10000000}) {
        std::vector<float> cs(s.n_dims);
        rope_cache_f32(pos, s.n_dims, theta_scale(10000.0f, s.n_dims), 1.0f, cs.data());
        const std::vector<float> x =
            random_floats(s.n_heads * s.head_dim, static_cast<std::uint32_t>(pos), -30.0f, 30.0f);
        std::vector<float> p = x;
        std::vector<float> v = x;
        (neox ? portable_->rope_neox : portable_->rope_norm)(p.data(), s.n_heads, s.head_dim,
                                                             s.n_dims, cs.data());
        (neox ? simd_->rope_neox : simd_->rope_norm)(v.data(), s.n_heads, s.head_dim, s.n_dims,
                                                     cs.data());
        ASSERT_TRUE(testing::all_same_bits(p, v))
            << (neox ? "neox" : "norm") << " head_dim " << s.head_dim << " pos " << pos;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Isa, RopeIsaTest, ::testing::ValuesIn(testing::simd_isas()),
                         testing::isa_param_name);

}  // namespace
}  // namespace lpu::kernels
