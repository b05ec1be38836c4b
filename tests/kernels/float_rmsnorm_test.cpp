// RMSNorm: every SIMD path equals the portable one bit for bit; accuracy
// against long double and agreement with the reference forward pass's
// sequential-double formula.
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

constexpr float kEps = 1e-5f;

// The reference forward pass's arithmetic (lib/reference/ops.cpp): the same
// roundings, a sequential double sum.
std::vector<float> rmsnorm_sequential(const std::vector<float>& x, const std::vector<float>& w,
                                      float eps) {
  double sum = 0.0;
  for (float v : x) sum += static_cast<double>(v * v);
  const auto mean = static_cast<float>(sum / static_cast<double>(x.size()));
  const float scale = 1.0f / std::sqrt(mean + eps);
  std::vector<float> y(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) y[i] = (x[i] * scale) * w[i];
  return y;
}

TEST(RmsnormF32, AccurateAgainstLongDouble) {
  const FloatKernels& k = float_kernels();
  double worst_rel = 0.0;
  std::size_t differ_from_sequential = 0;
  std::size_t total = 0;
  for (std::size_t n : testing::row_lengths()) {
    const std::vector<float> x = random_floats(n, static_cast<std::uint32_t>(n), -3.0f, 3.0f);
    const std::vector<float> w = random_floats(n, static_cast<std::uint32_t>(n) + 1000, 0.5f, 2.0f);
    std::vector<float> y(n);
    k.rmsnorm(x.data(), w.data(), n, kEps, y.data());
    long double sum = 0.0L;
    for (float v : x) sum += static_cast<long double>(v) * v;
    const long double scale = 1.0L / std::sqrt(sum / static_cast<long double>(n) + kEps);
    const std::vector<float> seq = rmsnorm_sequential(x, w, kEps);
    for (std::size_t i = 0; i < n; ++i) {
      const long double ref = static_cast<long double>(x[i]) * scale * w[i];
      if (ref != 0.0L) {
        worst_rel = std::max(worst_rel, static_cast<double>(std::fabs((y[i] - ref) / ref)));
      }
      EXPECT_LE(testing::ulp_error(y[i], seq[i]), 1.0) << "n = " << n << " i = " << i;
      differ_from_sequential += y[i] != seq[i] ? 1 : 0;
      ++total;
    }
  }
  EXPECT_LT(worst_rel, 1e-6);
  // The sum orders differ only below float resolution.
  EXPECT_LE(differ_from_sequential, total / 100) << differ_from_sequential << " of " << total;
}

TEST(RmsnormF32, InPlaceAndDegenerateRows) {
  const FloatKernels& k = float_kernels();
  std::vector<float> x = random_floats(100, 3, -1.0f, 1.0f);
  const std::vector<float> w(100, 1.0f);
  std::vector<float> out(100);
  k.rmsnorm(x.data(), w.data(), x.size(), kEps, out.data());
  k.rmsnorm(x.data(), w.data(), x.size(), kEps, x.data());
  EXPECT_TRUE(testing::all_same_bits(out, x));
  const std::vector<float> zeros(33, 0.0f);
  std::vector<float> y(33, 1.0f);
  k.rmsnorm(zeros.data(), w.data(), zeros.size(), kEps, y.data());
  for (float v : y) EXPECT_EQ(v, 0.0f);
  k.rmsnorm(nullptr, nullptr, 0, kEps, nullptr);  // empty row: nothing to do
}

using RmsnormIsaTest = testing::FloatIsaTest;

TEST_P(RmsnormIsaTest, BitIdenticalToPortable) {
  for (std::size_t n : testing::row_lengths()) {
    for (float range : {1.0f, 1e-20f, 1e18f}) {  // normal, squares underflow, squares overflow
      const std::vector<float> x =
          random_floats(n, static_cast<std::uint32_t>(n) * 7, -range, range);
      const std::vector<float> w =
          random_floats(n, static_cast<std::uint32_t>(n) * 7 + 1, -2.0f, 2.0f);
      std::vector<float> p(n);
      std::vector<float> v(n);
      portable_->rmsnorm(x.data(), w.data(), n, kEps, p.data());
      simd_->rmsnorm(x.data(), w.data(), n, kEps, v.data());
      ASSERT_TRUE(testing::all_same_bits(p, v)) << "n = " << n << " range " << range;
    }
  }
}

TEST_P(RmsnormIsaTest, SpecialValuesMatchPortable) {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float denorm = std::numeric_limits<float>::denorm_min();
  for (float special : {inf, -inf, nan, denorm, -0.0f}) {
    for (std::size_t at : {0, 5, 16, 33}) {
      std::vector<float> x = random_floats(37, 11, -1.0f, 1.0f);
      x[at] = special;
      const std::vector<float> w(37, 1.5f);
      std::vector<float> p(37);
      std::vector<float> v(37);
      portable_->rmsnorm(x.data(), w.data(), x.size(), kEps, p.data());
      simd_->rmsnorm(x.data(), w.data(), x.size(), kEps, v.data());
      EXPECT_TRUE(testing::all_same_bits(p, v)) << special << " at " << at;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Isa, RmsnormIsaTest, ::testing::ValuesIn(testing::simd_isas()),
                         testing::isa_param_name);

}  // namespace
}  // namespace lpu::kernels
