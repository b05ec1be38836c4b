// Router top-k: the reference forward pass's selection and weights, ties to
// the lower index, NaN last, and every SIMD path equal to the portable one.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <vector>

#include "kernels/float/float_kernels.h"
#include "kernels/topk/router_topk.h"
#include "tests/kernels/float_test_util.h"

namespace lpu::kernels {
namespace {

using testing::random_floats;

// As lib/reference/ops.cpp's top_k: partial sort by (prob desc, index asc).
std::vector<std::int32_t> reference_topk(const std::vector<float>& p, std::size_t k) {
  std::vector<std::int32_t> idx(p.size());
  std::iota(idx.begin(), idx.end(), 0);
  std::partial_sort(idx.begin(), idx.begin() + static_cast<std::ptrdiff_t>(k), idx.end(),
                    [&](std::int32_t a, std::int32_t b) {
                      const float pa = p[static_cast<std::size_t>(a)];
                      const float pb = p[static_cast<std::size_t>(b)];
                      return pa > pb || (pa == pb && a < b);
                    });
  idx.resize(k);
  return idx;
}

TEST(RouterTopkF32, MatchesReferenceSelectionAndWeights) {
  const FloatKernels& kern = float_kernels();
  for (std::size_t n : {2, 8, 16, 32, 60, 64, 128, 256}) {
    for (std::size_t k : {1, 2, 4, 8}) {
      if (k > n) continue;
      const std::vector<float> logits =
          random_floats(n, static_cast<std::uint32_t>(n * 31 + k), -4.0f, 4.0f);
      std::vector<float> probs(n);
      std::vector<std::int32_t> experts(k);
      std::vector<float> weights(k);
      kern.router_topk(logits.data(), n, k, true, probs.data(), experts.data(), weights.data());
      std::vector<float> want_probs(n);
      kern.softmax(logits.data(), n, want_probs.data());
      ASSERT_TRUE(testing::all_same_bits(want_probs, probs));
      ASSERT_EQ(experts, reference_topk(probs, k)) << "n = " << n << " k = " << k;
      double sum = 0.0;
      for (std::int32_t e : experts) sum += static_cast<double>(probs[static_cast<std::size_t>(e)]);
      double total = 0.0;
      for (std::size_t j = 0; j < k; ++j) {
        EXPECT_EQ(weights[j],
                  probs[static_cast<std::size_t>(experts[j])] / static_cast<float>(sum));
        total += weights[j];
      }
      EXPECT_NEAR(total, 1.0, 1e-6);
      std::vector<float> raw(k);
      kern.router_topk(logits.data(), n, k, false, probs.data(), experts.data(), raw.data());
      for (std::size_t j = 0; j < k; ++j) {
        EXPECT_EQ(raw[j], probs[static_cast<std::size_t>(experts[j])]);
      }
    }
  }
}

TEST(TopkSelectF32, TiesGoToTheLowerIndexAndNaNLast) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> p = {0.1f, 0.3f, nan, 0.3f, 0.2f, 0.3f, nan, 0.0f};
  std::vector<std::int32_t> experts(8);
  std::vector<float> w(8);
  topk_select_f32(p.data(), p.size(), 8, false, experts.data(), w.data());
  EXPECT_EQ(experts, (std::vector<std::int32_t>{1, 3, 5, 4, 0, 7, 2, 6}));
  // k above n is clamped: only n entries are written.
  std::vector<std::int32_t> two(3, -1);
  std::vector<float> w2(3, -1.0f);
  const float q[2] = {0.25f, 0.75f};
  topk_select_f32(q, 2, 3, true, two.data(), w2.data());
  EXPECT_EQ(two, (std::vector<std::int32_t>{1, 0, -1}));
  EXPECT_EQ(w2[0], 0.75f);
  EXPECT_EQ(w2[1], 0.25f);
  EXPECT_EQ(w2[2], -1.0f);
}

TEST(TopkSelectF32, TinyChosenSumIsClampedAsTheReference) {
  const float p[3] = {1e-6f, 2e-6f, 0.0f};
  std::int32_t e[2];
  float w[2];
  topk_select_f32(p, 3, 2, true, e, w);
  EXPECT_EQ(e[0], 1);
  EXPECT_EQ(w[0], 2e-6f / 6.103515625e-5f);
}

using TopkIsaTest = testing::FloatIsaTest;

TEST_P(TopkIsaTest, BitIdenticalToPortable) {
  for (std::size_t n : {4, 8, 17, 60, 64, 128, 160, 256}) {
    const std::size_t k = std::min<std::size_t>(8, n);
    std::vector<float> logits = random_floats(n, static_cast<std::uint32_t>(n), -6.0f, 6.0f);
    logits[n - 1] = logits[0];  // a tie
    std::vector<float> pp(n);
    std::vector<float> vp(n);
    std::vector<std::int32_t> pe(k);
    std::vector<std::int32_t> ve(k);
    std::vector<float> pw(k);
    std::vector<float> vw(k);
    portable_->router_topk(logits.data(), n, k, true, pp.data(), pe.data(), pw.data());
    simd_->router_topk(logits.data(), n, k, true, vp.data(), ve.data(), vw.data());
    ASSERT_TRUE(testing::all_same_bits(pp, vp)) << "n = " << n;
    ASSERT_EQ(pe, ve) << "n = " << n;
    ASSERT_TRUE(testing::all_same_bits(pw, vw)) << "n = " << n;
  }
}

INSTANTIATE_TEST_SUITE_P(Isa, TopkIsaTest, ::testing::ValuesIn(testing::simd_isas()),
                         testing::isa_param_name);

}  // namespace
}  // namespace lpu::kernels
