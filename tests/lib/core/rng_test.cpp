#include "lib/core/rng.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>

namespace lpu::rng {
namespace {

std::uint64_t bits_of(double d) { return std::bit_cast<std::uint64_t>(d); }

// Random123's known-answer vectors for philox4x32_10.
TEST(Philox, KnownAnswerVectors) {
  using A4 = std::array<std::uint32_t, 4>;
  EXPECT_EQ(philox4x32_10({0, 0, 0, 0}, {0, 0}),
            (A4{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}));
  EXPECT_EQ(
      philox4x32_10({0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}, {0xffffffff, 0xffffffff}),
      (A4{0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}));
  EXPECT_EQ(
      philox4x32_10({0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, {0xa4093822, 0x299f31d0}),
      (A4{0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}));
}

// Expected values from tests/peer/rng_reference.py, an independent Python
// model of the same algorithm.
TEST(CounterRng, MatchesPythonModel) {
  EXPECT_EQ(bits64(1, 0, 0), 0xe50a0ebce3e80670ull);
  EXPECT_EQ(bits64(1, 0, 1), 0xdfc5ccbeac08141bull);
  EXPECT_EQ(bits64(1, 7, 123456789), 0xe3a368160c4d8b34ull);
  EXPECT_EQ(bits64(0xdeadbeefcafef00dull, 0x0123456789abcdefull, ~0ull), 0x740978fe31e9f90bull);
  EXPECT_EQ(std::bit_cast<std::uint32_t>(uniform_float(1, 0, 0)), 0x3f650a0eu);
  EXPECT_EQ(std::bit_cast<std::uint32_t>(uniform_float(42, 3, 1000)), 0x3c80d220u);
  EXPECT_EQ(uniform_open(1, 0, 0), 0.8946847163350925);
  EXPECT_EQ(bits_of(normal(1, 0, 0)), 0x3ff407827c3c76fbull);
  EXPECT_EQ(bits_of(normal(1, 0, 1)), 0x3ff256344deab0e3ull);
  EXPECT_EQ(bits_of(normal(1, 7, 123456789)), 0x3ff38ebdaf5ef08cull);
  EXPECT_EQ(bits_of(normal(0xdeadbeefcafef00dull, 0x0123456789abcdefull, ~0ull)),
            0xbfbe0e41e64bbf0bull);
  EXPECT_EQ(bits_of(normal(42, 3, 1000)), 0xc00135ea9c81a768ull);  // lower tail
  EXPECT_EQ(bits_of(normal(5, 9, 11)), 0xbffffd879f048bc2ull);     // lower tail
  EXPECT_EQ(bits_of(normal(5, 9, 28)), 0x40079d7d0c8c0dc0ull);     // upper tail
}

TEST(CounterRng, ClassMatchesFreeFunctions) {
  const CounterRng r(99, 4);
  for (std::uint64_t c = 0; c < 16; ++c) {
    EXPECT_EQ(r.bits64(c), bits64(99, 4, c));
    EXPECT_EQ(r.normal(c), normal(99, 4, c));
  }
}

TEST(CounterRng, SeedStreamAndCounterAllMatter) {
  EXPECT_NE(bits64(1, 0, 0), bits64(2, 0, 0));
  EXPECT_NE(bits64(1, 0, 0), bits64(1, 1, 0));
  EXPECT_NE(bits64(1, 0, 0), bits64(1, 0, 1));
  EXPECT_NE(bits64(1, 0, 0), bits64(1, 0, 1ull << 32));
  EXPECT_NE(bits64(1, 0, 0), bits64(1, 1ull << 32, 0));
  EXPECT_NE(bits64(1, 0, 0), bits64(1ull << 32, 0, 0));
}

TEST(LogDeterministic, AgreesWithLibmToAFewUlp) {
  EXPECT_EQ(bits_of(log_deterministic(0.1)), 0xc0026bb1bbb55515ull);
  EXPECT_EQ(bits_of(log_deterministic(5e-324)), 0xc0874385446d71c3ull);
  EXPECT_EQ(log_deterministic(1.0), 0.0);
  EXPECT_TRUE(std::isinf(log_deterministic(0.0)) && log_deterministic(0.0) < 0);
  EXPECT_TRUE(std::isnan(log_deterministic(-1.0)));
  for (double x = 1e-300; x < 1e300; x *= 1.7) {
    const double want = std::log(x);
    EXPECT_NEAR(log_deterministic(x), want, 4 * std::abs(want) * 0x1p-52 + 1e-300) << x;
  }
}

TEST(Uniform, RangesAreRespected) {
  for (std::uint64_t c = 0; c < 100000; ++c) {
    const float u = uniform_float(3, 1, c);
    ASSERT_GE(u, 0.0f);
    ASSERT_LT(u, 1.0f);
    const double v = uniform_open(3, 1, c);
    ASSERT_GT(v, 0.0);
    ASSERT_LT(v, 1.0);
  }
}

TEST(Uniform, MeanAndVarianceOf1e5Samples) {
  constexpr int kN = 100000;
  double sum = 0, sum2 = 0;
  for (int i = 0; i < kN; ++i) {
    const double u = uniform_open(11, 2, static_cast<std::uint64_t>(i));
    sum += u;
    sum2 += u * u;
  }
  const double mean = sum / kN, var = sum2 / kN - mean * mean;
  // Standard error of the mean is sqrt(1/12 / 1e5) = 9.1e-4; allow 5 sigma.
  EXPECT_NEAR(mean, 0.5, 0.0046);
  EXPECT_NEAR(var, 1.0 / 12.0, 0.002);
}

TEST(Normal, MomentsAndTailsOf1e5Samples) {
  constexpr int kN = 100000;
  double sum = 0, sum2 = 0, sum3 = 0, sum4 = 0;
  int beyond2 = 0;
  for (int i = 0; i < kN; ++i) {
    const double x = normal(7, 5, static_cast<std::uint64_t>(i));
    sum += x;
    sum2 += x * x;
    sum3 += x * x * x;
    sum4 += x * x * x * x;
    if (std::abs(x) > 2) ++beyond2;
  }
  const double mean = sum / kN, var = sum2 / kN - mean * mean;
  // Standard errors: mean 0.0032, variance 0.0045, third moment 0.012,
  // fourth 0.03; P(|x| > 2) = 0.0455 with standard error 6.6e-4.
  EXPECT_NEAR(mean, 0.0, 0.016);
  EXPECT_NEAR(var, 1.0, 0.023);
  EXPECT_NEAR(sum3 / kN, 0.0, 0.06);
  EXPECT_NEAR(sum4 / kN, 3.0, 0.15);
  EXPECT_NEAR(static_cast<double>(beyond2) / kN, 0.0455, 0.0033);
}

TEST(Fnv1a64, KnownVectors) {
  EXPECT_EQ(fnv1a64("", 0), 0xcbf29ce484222325ull);
  EXPECT_EQ(fnv1a64("a", 1), 0xaf63dc4c8601ec8cull);
  EXPECT_EQ(fnv1a64("foobar", 6), 0x85944171f73967e8ull);
}

}  // namespace
}  // namespace lpu::rng
