// Bit-identity of matmul_s8 across ISA paths, thread counts and the
// position of a row in a batch: the arithmetic of an output element never
// depends on how the work was split.

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "kernels/dispatch/int8_kernels.h"
#include "kernels/gemm/matmul_s8.h"
#include "kernels/pack/packed_weights.h"
#include "tests/testing/gemm_tester.h"

namespace lpu::kernels {
namespace {

using testing::GemmTester;

bool same_bits(const float* a, const float* b, std::size_t n) {
  return std::memcmp(a, b, n * sizeof(float)) == 0;
}

std::vector<const Int8Kernels*> supported_paths() {
  std::vector<const Int8Kernels*> out;
  for (Isa isa : {Isa::kPortable, Isa::kAvx2, Isa::kAvx512Vnni}) {
    if (const Int8Kernels* k = int8_kernels_for(isa)) out.push_back(k);
  }
  return out;
}

TEST(MatmulS8InvarianceTest, EveryIsaEqualsPortable) {
  const std::vector<const Int8Kernels*> paths = supported_paths();
  if (paths.size() < 2) GTEST_SKIP() << "only the portable path runs on this CPU";
  for (std::size_t m : {1, 2, 7, 8, 9, 16, 40}) {
    for (std::size_t g : {32, 256, 320}) {
      GemmTester t = GemmTester().m(m).n(83).k(700).group(g).seed(m * 7 + g);
      const PackedWeights w = pack_s8_16c4(t.make_weights());
      const QuantizedRows x = t.make_activations();
      const std::vector<float> base = t.kernels(paths[0]).Run(w, x);
      for (std::size_t i = 1; i < paths.size(); ++i) {
        const std::vector<float> y = t.kernels(paths[i]).Run(w, x);
        EXPECT_TRUE(same_bits(base.data(), y.data(), y.size()))
            << isa_name(paths[i]->isa) << " differs from portable: " << t.describe();
      }
    }
  }
}

TEST(MatmulS8InvarianceTest, ThreadCountsGiveTheSameBits) {
  for (const Int8Kernels* path : supported_paths()) {
    for (std::size_t m : {1, 4, 8, 16, 33, 300}) {
      GemmTester t = GemmTester().m(m).n(500).k(520).group(256).kernels(path);
      const PackedWeights w = pack_s8_16c4(t.make_weights());
      const QuantizedRows x = t.make_activations();
      const std::vector<float> one = t.threads(1).Run(w, x);
      for (int threads : {2, 4}) {
        const std::vector<float> y = t.threads(threads).Run(w, x);
        EXPECT_TRUE(same_bits(one.data(), y.data(), y.size()))
            << threads << " threads differ from 1: " << t.describe();
      }
    }
  }
}

// Row `r` of `x` copied to row `at` of a batch of `batch` rows whose other
// rows come from `others`.
QuantizedRows batch_with_row(const QuantizedRows& x, std::size_t r, const QuantizedRows& others,
                             std::size_t batch, std::size_t at) {
  QuantizedRows b(batch, x.k(), x.group_size());
  for (std::size_t i = 0; i < batch; ++i) {
    const QuantizedRows& src = i == at ? x : others;
    const std::size_t row = i == at ? r : i % others.rows();
    std::memcpy(b.row(i), src.row(row), x.stride());
    std::memcpy(b.scales(i), src.scales(row), x.groups() * sizeof(float));
    std::memcpy(b.sums(i), src.sums(row), x.groups() * sizeof(std::int32_t));
  }
  return b;
}

void expect_batch_invariant(const Int8Kernels* path, std::size_t n, std::size_t k, std::size_t g,
                            const std::vector<std::size_t>& batches) {
  GemmTester t = GemmTester().m(1).n(n).k(k).group(g).kernels(path).threads(2);
  const PackedWeights w = pack_s8_16c4(t.make_weights());
  const QuantizedRows alone = t.make_activations();
  const QuantizedRows others = GemmTester().m(17).n(n).k(k).group(g).seed(99).make_activations();
  const std::vector<float> ref = t.Run(w, alone);
  for (std::size_t batch : batches) {
    for (std::size_t at = 0; at < batch; at += (batch > 16 ? 7 : 1)) {
      const QuantizedRows x = batch_with_row(alone, 0, others, batch, at);
      const std::vector<float> y = t.Run(w, x);
      EXPECT_TRUE(same_bits(ref.data(), y.data() + at * n, n))
          << "row at " << at << " of a batch of " << batch << " differs from the row alone ("
          << isa_name(path->isa) << ", n=" << n << " k=" << k << " G=" << g << ")";
    }
  }
}

TEST(MatmulS8InvarianceTest, RowAloneEqualsRowAnywhereInBatches1To16) {
  std::vector<std::size_t> batches;
  for (std::size_t b = 1; b <= 16; ++b) batches.push_back(b);
  for (const Int8Kernels* path : supported_paths()) {
    expect_batch_invariant(path, 113, 650, 256, batches);
    expect_batch_invariant(path, 48, 320, 320, batches);
  }
}

TEST(MatmulS8InvarianceTest, RowAloneEqualsRowInLargeBatches) {
  for (const Int8Kernels* path : supported_paths()) {
    expect_batch_invariant(path, 100, 300, 32, {33, 260});
  }
}

TEST(MatmulS8InvarianceTest, StridedOutputLeavesPaddingAlone) {
  GemmTester t = GemmTester().m(10).n(20).k(64);
  const PackedWeights w = pack_s8_16c4(t.make_weights());
  const QuantizedRows x = t.make_activations();
  const std::vector<float> dense = t.Run(w, x);
  std::vector<float> y(10 * 29, 5.0f);
  MatmulOptions options;
  options.y_stride = 29;
  matmul_s8(w, x, y.data(), options);
  for (std::size_t r = 0; r < 10; ++r) {
    EXPECT_TRUE(same_bits(dense.data() + r * 20, y.data() + r * 29, 20)) << "row " << r;
    for (std::size_t c = 20; c < 29; ++c) EXPECT_EQ(y[r * 29 + c], 5.0f);
  }
}

}  // namespace
}  // namespace lpu::kernels
