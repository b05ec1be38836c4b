// The Hadamard rotation: orthogonal for every supported order, refused for
// the rest, and the same bits everywhere (a recorded hash).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "lib/core/sha256.h"
#include "lib/quant/hadamard.h"

namespace lpu::quant {
namespace {

TEST(Hadamard, SupportsProductsOfTwoTwelveAndTwenty) {
  for (std::size_t n : {1u, 2u, 12u, 20u, 64u, 240u, 576u, 2048u, 4096u, 5120u}) {
    EXPECT_TRUE(HadamardRotation::supports(n)) << n;
  }
  for (std::size_t n : {0u, 3u, 6u, 36u, 100u, 4000u}) EXPECT_FALSE(HadamardRotation::supports(n)) << n;
  auto bad = HadamardRotation::create(100, 1);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("no Hadamard rotation of order 100 (expected 2^a 12^b 20^c)"),
            std::string::npos);
}

// R R^T = I to float accuracy, and every entry is +-1/sqrt(n).
TEST(Hadamard, IsOrthogonalWithEqualMagnitudes) {
  for (std::size_t n : {12u, 20u, 48u, 64u, 240u}) {
    auto r = HadamardRotation::create(n, 3);
    ASSERT_TRUE(r.ok());
    std::vector<double> m(n * n);
    for (std::size_t i = 0; i < n; ++i) {
      for (std::size_t j = 0; j < n; ++j) {
        m[i * n + j] = r->entry(i, j);
        ASSERT_NEAR(std::fabs(m[i * n + j]), 1.0 / std::sqrt(static_cast<double>(n)), 1e-7) << n;
      }
    }
    double worst = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
      for (std::size_t j = 0; j < n; ++j) {
        double dot = 0.0;
        for (std::size_t k = 0; k < n; ++k) dot += m[i * n + k] * m[j * n + k];
        worst = std::max(worst, std::fabs(dot - (i == j ? 1.0 : 0.0)));
      }
    }
    EXPECT_LT(worst, 1e-5) << n;
  }
}

// Other seeds flip other signs; one seed always gives the same bits.
TEST(Hadamard, SeedsChooseTheSignsAndTheBitsAreFixed) {
  auto a = HadamardRotation::create(576, 1);
  auto b = HadamardRotation::create(576, 2);
  ASSERT_TRUE(a.ok() && b.ok());
  std::vector<float> x(576), y(576);
  // Exact inputs (no libm), so the hash pins the rotation alone.
  for (std::size_t i = 0; i < x.size(); ++i) {
    x[i] = y[i] = static_cast<float>(static_cast<int>(i % 17) - 8) + 0.25f * static_cast<float>(i % 5);
  }
  a->rotate(x);
  b->rotate(y);
  EXPECT_NE(x, y);
  const std::string hash = sha256_hex(std::span(reinterpret_cast<const std::uint8_t*>(x.data()), x.size() * 4));
  // Recorded once; a change here changes every rotated Program's weights.
  EXPECT_EQ(hash, "fcbd9c08a0f6c1e3015ad9226be6c5d9ccf2d1c4296a3906f888f4ea15521fb1") << hash;
}

}  // namespace
}  // namespace lpu::quant
