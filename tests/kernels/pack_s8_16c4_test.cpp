// The 16c4 packed layout: round trip, byte positions, padding, sizes.

#include <gtest/gtest.h>

#include <cstring>

#include "kernels/pack/packed_weights.h"
#include "tests/testing/gemm_tester.h"

namespace lpu::kernels {
namespace {

using testing::GemmTester;

TEST(PackS8Test, UnpackRestoresEveryValueAndScale) {
  for (std::size_t g : {32, 64, 256, 320}) {
    for (std::size_t k : {1, 3, 33, 100, 257, 321}) {
      for (std::size_t n : {1, 15, 16, 17, 33}) {
        const QuantizedRows w = GemmTester().m(1).n(n).k(k).group(g).seed(n + k).make_weights();
        const QuantizedRows back = pack_s8_16c4(w).unpack();
        ASSERT_EQ(back.rows(), n);
        for (std::size_t r = 0; r < n; ++r) {
          ASSERT_EQ(std::memcmp(w.row(r), back.row(r), k), 0) << "n=" << n << " k=" << k;
          ASSERT_EQ(std::memcmp(w.scales(r), back.scales(r), w.groups() * sizeof(float)), 0);
          ASSERT_EQ(std::memcmp(w.sums(r), back.sums(r), w.groups() * sizeof(std::int32_t)), 0);
        }
      }
    }
  }
}

TEST(PackS8Test, LayoutIsSixteenColumnsByFourK) {
  const std::size_t n = 20, k = 70, g = 64;
  const QuantizedRows w = GemmTester().m(1).n(n).k(k).group(g).make_weights();
  const PackedWeights p = pack_s8_16c4(w);
  EXPECT_EQ(p.panels(), 2u);
  EXPECT_EQ(p.groups(), 2u);
  EXPECT_EQ(p.group_bytes(), 64u + 16u * 64u);
  EXPECT_EQ(p.group_quads(0), 16u);
  EXPECT_EQ(p.group_quads(1), 2u);  // 6 values of the last group, padded to 8
  EXPECT_EQ(p.panel_bytes(), p.group_bytes() + 64u + 2u * 64u);
  EXPECT_EQ(p.size_bytes(), 2 * p.panel_bytes());
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p.data()) % 64, 0u);
  // Panel 1, group 1, vector 1, column 3, k offset 1: W[19][64 + 4 + 1].
  const std::uint8_t* block = p.group_block(1, 1);
  EXPECT_EQ(block[64 + 64 + 3 * 4 + 1], static_cast<std::uint8_t>(w.row(19)[69] + 128));
  float scale;
  std::memcpy(&scale, block + 3 * sizeof(float), sizeof(float));
  EXPECT_EQ(scale, w.scales(19)[1]);
  // k = 70, 71 (past the end) and columns 20..31 (past n) are zero bytes and zero scales.
  EXPECT_EQ(block[64 + 64 + 3 * 4 + 2], 0);
  EXPECT_EQ(block[64 + 64 + 3 * 4 + 3], 0);
  for (std::size_t j = 4; j < 16; ++j) {
    std::memcpy(&scale, block + j * sizeof(float), sizeof(float));
    EXPECT_EQ(scale, 0.0f);
    for (std::size_t b = 0; b < 4; ++b) EXPECT_EQ(block[64 + j * 4 + b], 0);
  }
}

}  // namespace
}  // namespace lpu::kernels
