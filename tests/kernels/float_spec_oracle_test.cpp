// Every float kernel the two backends share, against a scalar oracle
// written from its specification (the comments of its header and of
// kernels/float/lanes16-inl.h: elements to lane i % 16, lanes accumulated
// in ascending order - sums in double -, then the pairwise tree 8, 4, 2, 1;
// exp, rsqrt and SiLU from kernels/math), bit for bit, on every kernel path
// this CPU runs and on rows of every tail length.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "kernels/float/dot_axpy.h"
#include "kernels/float/float_kernels.h"
#include "kernels/math/math.h"
#include "tests/kernels/float_test_util.h"

namespace lpu::kernels {
namespace {

using testing::random_floats;
using testing::row_lengths;

double tree16(const double* l) {
  double t8[8], t4[4];
  for (int i = 0; i < 8; ++i) t8[i] = l[i] + l[i + 8];
  for (int i = 0; i < 4; ++i) t4[i] = t8[i] + t8[i + 4];
  return (t4[0] + t4[2]) + (t4[1] + t4[3]);
}

float max_of(float a, float b) { return b > a ? b : a; }

float max_tree16(const float* l) {
  float t8[8], t4[4];
  for (int i = 0; i < 8; ++i) t8[i] = max_of(l[i], l[i + 8]);
  for (int i = 0; i < 4; ++i) t4[i] = max_of(t8[i], t8[i + 4]);
  return max_of(max_of(t4[0], t4[2]), max_of(t4[1], t4[3]));
}

// y = (x * scale) * w, scale = rsqrt(float(sum of float squares / n) + eps).
std::vector<float> rmsnorm_spec(const std::vector<float>& x, const std::vector<float>& w, float eps) {
  double lane[16] = {};
  for (std::size_t i = 0; i < x.size(); ++i) lane[i % 16] = lane[i % 16] + static_cast<double>(x[i] * x[i]);
  const auto mean = static_cast<float>(tree16(lane) / static_cast<double>(x.size()));
  const float scale = rsqrt_f32(mean + eps);
  std::vector<float> y(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) y[i] = (x[i] * scale) * w[i];
  return y;
}

// y = e * float(1 / sum(e)), e = exp(x - max(x)).
std::vector<float> softmax_spec(const std::vector<float>& x) {
  float mlane[16];
  for (float& m : mlane) m = -std::numeric_limits<float>::infinity();
  for (std::size_t i = 0; i < x.size(); ++i) mlane[i % 16] = max_of(mlane[i % 16], x[i]);
  const float m = max_tree16(mlane);
  std::vector<float> e(x.size());
  double lane[16] = {};
  for (std::size_t i = 0; i < x.size(); ++i) {
    e[i] = exp_f32(x[i] - m);
    lane[i % 16] = lane[i % 16] + static_cast<double>(e[i]);
  }
  const auto inv = static_cast<float>(1.0 / tree16(lane));
  for (float& v : e) v = v * inv;
  return e;
}

// Adjacent pairs of the first n_dims (even, at most head_dim) of each head:
// (x0 c - x1 s, x0 s + x1 c) as x0 c + x1 (-s) and x1 c + x0 s.
void rope_norm_spec(float* x, std::size_t heads, std::size_t head_dim, std::size_t n_dims, const float* cs) {
  n_dims = std::min(n_dims, head_dim) & ~std::size_t{1};
  for (std::size_t h = 0; h < heads; ++h) {
    float* v = x + h * head_dim;
    for (std::size_t k = 0; k < n_dims; k += 2) {
      const float c = cs[k], s = cs[k + 1], x0 = v[k], x1 = v[k + 1];
      v[k] = x0 * c + x1 * -s;
      v[k + 1] = x1 * c + x0 * s;
    }
  }
}

float dot_spec(const std::vector<float>& a, const std::vector<float>& b) {
  float lane[16] = {};
  for (std::size_t i = 0; i < a.size(); ++i) lane[i % 16] = lane[i % 16] + a[i] * b[i];
  float t8[8], t4[4];
  for (int i = 0; i < 8; ++i) t8[i] = lane[i] + lane[i + 8];
  for (int i = 0; i < 4; ++i) t4[i] = t8[i] + t8[i + 4];
  return (t4[0] + t4[2]) + (t4[1] + t4[3]);
}

std::vector<const FloatKernels*> tables() {
  std::vector<const FloatKernels*> out;
  for (Isa isa : {Isa::kPortable, Isa::kAvx2, Isa::kAvx512Vnni}) {
    if (const FloatKernels* k = float_kernels_for(isa)) out.push_back(k);
  }
  return out;
}

void expect_bits(const std::vector<float>& got, const std::vector<float>& want, const std::string& what) {
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    ASSERT_TRUE(testing::same_bits(got[i], want[i])) << what << " element " << i << ": " << got[i] << " vs " << want[i];
  }
}

TEST(FloatSpecOracle, RmsNorm) {
  for (const FloatKernels* k : tables()) {
    for (std::size_t n : row_lengths()) {
      const auto x = random_floats(n, 1 + static_cast<std::uint32_t>(n), -3.0f, 3.0f);
      const auto w = random_floats(n, 2 + static_cast<std::uint32_t>(n), 0.5f, 1.5f);
      std::vector<float> y(n);
      k->rmsnorm(x.data(), w.data(), n, 1e-5f, y.data());
      expect_bits(y, rmsnorm_spec(x, w, 1e-5f), std::string(isa_name(k->isa)) + " rmsnorm n=" + std::to_string(n));
    }
  }
}

TEST(FloatSpecOracle, Softmax) {
  for (const FloatKernels* k : tables()) {
    for (std::size_t n : row_lengths()) {
      const auto x = random_floats(n, 3 + static_cast<std::uint32_t>(n), -20.0f, 20.0f);
      std::vector<float> y(n);
      k->softmax(x.data(), n, y.data());
      expect_bits(y, softmax_spec(x), std::string(isa_name(k->isa)) + " softmax n=" + std::to_string(n));
    }
  }
}

// The row maximum skips NaN; an empty or all-NaN row gives -inf.
TEST(FloatSpecOracle, RowMax) {
  for (const FloatKernels* k : tables()) {
    for (std::size_t n : row_lengths()) {
      auto x = random_floats(n, 9 + static_cast<std::uint32_t>(n), -20.0f, 20.0f);
      const std::string what = std::string(isa_name(k->isa)) + " max n=" + std::to_string(n);
      float want = -INFINITY;
      for (float v : x) want = std::max(want, v);
      EXPECT_EQ(k->max(x.data(), n), want) << what;
      if (n == 0) continue;
      x[n - 1] = 1000.0f;  // in the tail block
      EXPECT_EQ(k->max(x.data(), n), 1000.0f) << what;
      if (n >= 2) {
        x[0] = NAN;
        EXPECT_EQ(k->max(x.data(), n), 1000.0f) << what << " with a NaN";
      }
      std::fill(x.begin(), x.end(), NAN);
      EXPECT_EQ(k->max(x.data(), n), -INFINITY) << what << " all NaN";
    }
  }
}

TEST(FloatSpecOracle, SiluMulAndAdd) {
  for (const FloatKernels* k : tables()) {
    for (std::size_t n : row_lengths()) {
      const auto a = random_floats(n, 4 + static_cast<std::uint32_t>(n), -10.0f, 10.0f);
      const auto b = random_floats(n, 5 + static_cast<std::uint32_t>(n), -10.0f, 10.0f);
      std::vector<float> y(n), want(n);
      k->silu_mul(a.data(), b.data(), n, y.data());
      for (std::size_t i = 0; i < n; ++i) want[i] = silu_f32(a[i]) * b[i];
      expect_bits(y, want, std::string(isa_name(k->isa)) + " silu_mul n=" + std::to_string(n));
      k->add(a.data(), b.data(), n, y.data());
      for (std::size_t i = 0; i < n; ++i) want[i] = a[i] + b[i];
      expect_bits(y, want, std::string(isa_name(k->isa)) + " add n=" + std::to_string(n));
    }
  }
}

TEST(FloatSpecOracle, RopeNorm) {
  for (const FloatKernels* k : tables()) {
    for (std::size_t hd : {8, 16, 32, 64, 80, 128}) {
      for (std::size_t dims : {hd, hd / 2, hd - 2}) {
        const auto x = random_floats(3 * hd, static_cast<std::uint32_t>(hd + dims), -4.0f, 4.0f);
        const auto cs = random_floats(hd, static_cast<std::uint32_t>(7 * hd + dims), -1.0f, 1.0f);
        std::vector<float> got = x, want = x;
        k->rope_norm(got.data(), 3, hd, dims, cs.data());
        rope_norm_spec(want.data(), 3, hd, dims, cs.data());
        expect_bits(got, want, std::string(isa_name(k->isa)) + " rope hd=" + std::to_string(hd) + " dims=" + std::to_string(dims));
      }
    }
  }
}

TEST(FloatSpecOracle, RouterTopK) {
  for (const FloatKernels* k : tables()) {
    for (std::size_t ne : {4, 8, 16, 60}) {
      for (std::size_t top : {1, 2, 4}) {
        const auto logits = random_floats(ne, static_cast<std::uint32_t>(ne * 10 + top), -5.0f, 5.0f);
        std::vector<float> probs(ne), weights(top);
        std::vector<std::int32_t> experts(top);
        k->router_topk(logits.data(), ne, top, true, probs.data(), experts.data(), weights.data());
        const std::vector<float> p = softmax_spec(logits);
        expect_bits(probs, p, std::string(isa_name(k->isa)) + " router probs");
        // The top-k by probability, larger first, ties to the lower index.
        std::vector<std::size_t> order(ne);
        for (std::size_t i = 0; i < ne; ++i) order[i] = i;
        std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return p[a] > p[b]; });
        double sum = 0.0;
        for (std::size_t j = 0; j < top; ++j) sum += static_cast<double>(p[order[j]]);
        const float norm = std::max(static_cast<float>(sum), 6.103515625e-5f);
        for (std::size_t j = 0; j < top; ++j) {
          EXPECT_EQ(experts[j], static_cast<std::int32_t>(order[j]));
          EXPECT_TRUE(testing::same_bits(weights[j], p[order[j]] / norm));
        }
      }
    }
  }
}

TEST(FloatSpecOracle, DotAndAxpy) {
  for (std::size_t n : row_lengths()) {
    const auto a = random_floats(n, 8 + static_cast<std::uint32_t>(n), -2.0f, 2.0f);
    const auto b = random_floats(n, 9 + static_cast<std::uint32_t>(n), -2.0f, 2.0f);
    EXPECT_TRUE(testing::same_bits(dot_f32(a.data(), b.data(), n), dot_spec(a, b))) << "dot n=" << n;
    std::vector<float> y = b, want = b;
    axpy_f32(0.37f, a.data(), n, y.data());
    for (std::size_t i = 0; i < n; ++i) want[i] = want[i] + 0.37f * a[i];
    expect_bits(y, want, "axpy n=" + std::to_string(n));
  }
}

}  // namespace
}  // namespace lpu::kernels
