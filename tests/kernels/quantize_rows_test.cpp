// quantize_rows_f32_s8 on every ISA path against the roundf oracle:
// scales, bytes and sums bit-identical, rounding half away from zero.

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "kernels/dispatch/int8_kernels.h"
#include "kernels/quantize/quantize.h"
#include "kernels/reference/int8_reference.h"
#include "tests/testing/gemm_tester.h"

namespace lpu::kernels {
namespace {

class QuantizeRowsTest : public ::testing::TestWithParam<Isa> {
 protected:
  void SetUp() override {
    kernels_ = int8_kernels_for(GetParam());
    if (kernels_ == nullptr) {
      GTEST_SKIP() << "this CPU lacks " << isa_name(GetParam()) << " (cpu_supports is false)";
    }
  }

  // Quantises `x` (rows of k) with this path and compares with the oracle.
  void expect_matches_oracle(const std::vector<float>& x, std::size_t k, std::size_t g) {
    const std::size_t rows = x.size() / k;
    QuantizedRows q(rows, k, g);
    quantize_rows(x.data(), k, q, kernels_);
    std::vector<std::int8_t> rq(k);
    std::vector<float> rs(q.groups());
    std::vector<std::int32_t> rsum(q.groups());
    for (std::size_t r = 0; r < rows; ++r) {
      quantize_row_reference(x.data() + r * k, k, g, rq.data(), rs.data(), rsum.data());
      ASSERT_EQ(std::memcmp(q.row(r), rq.data(), k), 0)
          << "bytes of row " << r << " k=" << k << " G=" << g;
      ASSERT_EQ(std::memcmp(q.scales(r), rs.data(), rs.size() * sizeof(float)), 0)
          << "scales of row " << r << " k=" << k << " G=" << g;
      ASSERT_EQ(std::memcmp(q.sums(r), rsum.data(), rsum.size() * sizeof(std::int32_t)), 0)
          << "sums of row " << r << " k=" << k << " G=" << g;
    }
  }

  const Int8Kernels* kernels_ = nullptr;
};

std::vector<float> random_floats(std::size_t n, std::uint64_t seed) {
  std::vector<float> x(n);
  std::uint64_t state = seed;
  for (float& v : x) {
    const std::uint64_t b = testing::splitmix64(state);
    const float mant = static_cast<float>(b >> 40) * 0x1.0p-24f;
    v = std::ldexp(mant, static_cast<int>(b % 24) - 12) * ((b >> 5) & 1 ? -1.0f : 1.0f);
  }
  return x;
}

TEST_P(QuantizeRowsTest, RandomRowsMatchOracle) {
  for (std::size_t g : {32, 64, 256, 320}) {
    for (std::size_t k : {1, 7, 31, 32, 33, 100, 257, 321, 1000}) {
      expect_matches_oracle(random_floats(3 * k, k * g), k, g);
    }
  }
}

// With max|x| = 127 the scale is exactly 1, so x * id = x: the halves must
// round away from zero (roundf), not to even, and 0.49999997 must stay 0.
TEST_P(QuantizeRowsTest, RoundsHalfAwayFromZero) {
  const std::vector<float> halves = {
      0.5f,        1.5f,         2.5f,        -0.5f,      -1.5f, -2.5f,  126.5f, -126.5f,
      0.49999997f, -0.49999997f, 0.50000006f, 3.4999998f, 64.5f, -64.5f, 0.0f,   -0.0f};
  std::vector<float> x(64, 0.0f);
  x[0] = 127.0f;
  std::copy(halves.begin(), halves.end(), x.begin() + 1);
  x[40] = -127.0f;
  QuantizedRows q(1, x.size(), 64);
  quantize_rows(x.data(), x.size(), q, kernels_);
  ASSERT_EQ(q.scales(0)[0], 1.0f);
  for (std::size_t i = 0; i < halves.size(); ++i) {
    EXPECT_EQ(q.row(0)[i + 1], static_cast<std::int8_t>(std::roundf(halves[i])))
        << "x = " << halves[i];
  }
  EXPECT_EQ(q.row(0)[3], 3);
  EXPECT_EQ(q.row(0)[6], -3);
  EXPECT_EQ(q.row(0)[9], 0);
  expect_matches_oracle(x, x.size(), 64);
}

TEST_P(QuantizeRowsTest, ZeroGroupHasScaleZero) {
  std::vector<float> x(100, 0.0f);
  x[70] = 2.0f;
  QuantizedRows q(1, 100, 32);
  quantize_rows(x.data(), 100, q, kernels_);
  EXPECT_EQ(q.scales(0)[0], 0.0f);
  EXPECT_EQ(q.scales(0)[2], 2.0f / 127.0f);
  EXPECT_EQ(q.row(0)[70], 127);
  EXPECT_EQ(q.sums(0)[2], 127);
  expect_matches_oracle(x, 100, 32);
}

// NaN is ignored by the maximum and quantises to 0; infinity gives scale
// inf and q = 0; subnormal maxima (id overflows to inf) clamp to +-127.
TEST_P(QuantizeRowsTest, NonFiniteAndSubnormalInputsAreDeterministic) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  const float tiny = std::numeric_limits<float>::denorm_min();
  std::vector<float> x = random_floats(4 * 96, 5);
  x[3] = nan;
  x[17] = -nan;
  x[96 + 5] = inf;
  x[96 + 40] = -inf;
  for (std::size_t i = 192; i < 288; ++i) x[i] = (i % 3 == 0 ? -tiny : tiny) * float(i % 5);
  x[300] = nan;
  expect_matches_oracle(x, 96, 32);
  QuantizedRows q(4, 96, 32);
  quantize_rows(x.data(), 96, q, kernels_);
  EXPECT_EQ(q.row(0)[3], 0);
  EXPECT_TRUE(std::isinf(q.scales(1)[0]));
}

// At G = 32 the bytes are ggml's quantize_row_q8_0 bytes (before its scale
// goes to f16): d = amax / 127, id = 1 / d, q = roundf(x * id).
TEST_P(QuantizeRowsTest, MatchesQ8_0RuleAtGroup32) {
  const std::vector<float> x = random_floats(32 * 20, 77);
  QuantizedRows q(1, x.size(), 32);
  quantize_rows(x.data(), x.size(), q, kernels_);
  for (std::size_t b = 0; b < 20; ++b) {
    float amax = 0.0f;
    for (std::size_t j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(x[b * 32 + j]));
    const float d = amax / ((1 << 7) - 1);
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    EXPECT_EQ(q.scales(0)[b], d);
    for (std::size_t j = 0; j < 32; ++j) {
      EXPECT_EQ(q.row(0)[b * 32 + j], static_cast<std::int8_t>(std::roundf(x[b * 32 + j] * id)));
    }
  }
}

TEST_P(QuantizeRowsTest, StridedRows) {
  const std::size_t k = 70, stride = 100;
  const std::vector<float> x = random_floats(3 * stride, 9);
  QuantizedRows q(3, k, 32);
  quantize_rows(x.data(), stride, q, kernels_);
  for (std::size_t r = 0; r < 3; ++r) {
    QuantizedRows one(1, k, 32);
    quantize_rows(x.data() + r * stride, k, one, kernels_);
    EXPECT_EQ(std::memcmp(one.row(0), q.row(r), k), 0) << "row " << r;
  }
}

INSTANTIATE_TEST_SUITE_P(Isas, QuantizeRowsTest,
                         ::testing::Values(Isa::kPortable, Isa::kAvx2, Isa::kAvx512Vnni),
                         [](const ::testing::TestParamInfo<Isa>& param) {
                           return std::string(isa_name(param.param));
                         });

}  // namespace
}  // namespace lpu::kernels
