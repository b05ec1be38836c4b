#include "lib/reference/ops.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <utility>

namespace lpu::reference {

void rms_norm_rows(MatrixRM& x, const Eigen::VectorXf& weight, float eps) {
  const Eigen::Index n = x.cols();
  for (Eigen::Index r = 0; r < x.rows(); ++r) {
    float* row = x.row(r).data();
    double sum = 0.0;
    for (Eigen::Index i = 0; i < n; ++i) sum += static_cast<double>(row[i] * row[i]);
    const auto mean = static_cast<float>(sum / static_cast<double>(n));
    const float scale = 1.0f / std::sqrt(mean + eps);
    for (Eigen::Index i = 0; i < n; ++i) row[i] = (row[i] * scale) * weight[i];
  }
}

void softmax(std::span<float> x) {
  if (x.empty()) return;
  float max = -INFINITY;
  for (float v : x) max = std::max(max, v);
  double sum = 0.0;
  for (float& v : x) {
    v = std::exp(v - max);
    sum += static_cast<double>(v);
  }
  const auto inv = static_cast<float>(1.0 / sum);
  for (float& v : x) v *= inv;
}

float silu(float x) { return x / (1.0f + std::exp(-x)); }

std::vector<int> top_k(std::span<const float> p, int k) {
  std::vector<int> idx(p.size());
  std::iota(idx.begin(), idx.end(), 0);
  const auto kk =
      static_cast<std::ptrdiff_t>(std::min<std::size_t>(static_cast<std::size_t>(k), p.size()));
  std::partial_sort(idx.begin(), idx.begin() + kk, idx.end(), [&](int a, int b) {
    return p[static_cast<std::size_t>(a)] > p[static_cast<std::size_t>(b)] ||
           (p[static_cast<std::size_t>(a)] == p[static_cast<std::size_t>(b)] && a < b);
  });
  idx.resize(static_cast<std::size_t>(kk));
  return idx;
}

Rope::Rope(const ModelConfig& config, std::vector<float> freq_factors)
    : head_dim_(config.head_dim), schedule_(config, std::move(freq_factors)) {}

void Rope::cos_sin(int pos, std::vector<float>& table) const {
  std::vector<float> angles(static_cast<std::size_t>(schedule_.n_pairs()));
  schedule_.angles(pos, angles);
  const float mscale = schedule_.mscale();
  table.resize(static_cast<std::size_t>(schedule_.n_dims()));
  for (std::size_t i = 0; i < angles.size(); ++i) {
    table[2 * i] = std::cos(angles[i]) * mscale;
    table[2 * i + 1] = std::sin(angles[i]) * mscale;
  }
}

void Rope::apply(float* x, int n_heads, int pos) const {
  std::vector<float> cs;
  cos_sin(pos, cs);
  const int n_dims = schedule_.n_dims();
  for (int h = 0; h < n_heads; ++h) {
    float* v = x + static_cast<std::ptrdiff_t>(h) * head_dim_;
    for (int i0 = 0; i0 < n_dims; i0 += 2) {
      const float c = cs[static_cast<std::size_t>(i0)];
      const float s = cs[static_cast<std::size_t>(i0) + 1];
      const float x0 = v[i0];
      const float x1 = v[i0 + 1];
      v[i0] = x0 * c - x1 * s;
      v[i0 + 1] = x0 * s + x1 * c;
    }
  }
}

}  // namespace lpu::reference
