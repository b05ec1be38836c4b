#include "lib/reference/ops.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <numeric>

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

namespace {

// YaRN correction range (ggml_rope_yarn_corr_dims): the pair indices between
// which rotations blend from extrapolation to interpolation.
float yarn_corr_dim(int n_dims, int n_ctx_orig, float n_rot, float base) {
  return static_cast<float>(n_dims) *
         std::log(static_cast<float>(n_ctx_orig) / (n_rot * 2.0f * std::numbers::pi_v<float>)) /
         (2.0f * std::log(base));
}

float yarn_ramp(float low, float high, int i0) {
  const float y = static_cast<float>(i0 / 2 - low) / std::max(0.001f, high - low);
  return 1.0f - std::min(1.0f, std::max(0.0f, y));
}

}  // namespace

Rope::Rope(const ModelConfig& config, std::vector<float> freq_factors)
    : n_dims_(config.rope_dim),
      head_dim_(config.head_dim),
      theta_scale_(std::pow(config.rope_theta, -2.0f / static_cast<float>(config.rope_dim))),
      freq_scale_(
          config.rope_scaling == RopeScalingType::kNone ? 1.0f : 1.0f / config.rope_scaling_factor),
      ext_factor_(config.rope_scaling == RopeScalingType::kYarn ? 1.0f : 0.0f),
      attn_factor_(config.rope_attn_factor),
      freq_factors_(std::move(freq_factors)) {
  // llama.cpp's default YaRN betas (beta_fast 32, beta_slow 1).
  const float start =
      std::floor(yarn_corr_dim(n_dims_, config.rope_orig_ctx, 32.0f, config.rope_theta));
  const float end =
      std::ceil(yarn_corr_dim(n_dims_, config.rope_orig_ctx, 1.0f, config.rope_theta));
  corr_dims_[0] = std::max(0.0f, start);
  corr_dims_[1] = std::min(static_cast<float>(n_dims_ - 1), end);
}

// The angle of pair i is pos * theta_scale^i, built by repeated
// multiplication as ggml does (not by pow per pair), then rope_yarn.
void Rope::angles(int pos, std::vector<float>& cos_sin) const {
  cos_sin.resize(static_cast<std::size_t>(n_dims_));
  float theta = static_cast<float>(pos);
  for (int i0 = 0; i0 < n_dims_; i0 += 2) {
    float ff = freq_factors_.empty() ? 1.0f : freq_factors_[static_cast<std::size_t>(i0 / 2)];
    if (ff == 0.0f) ff = 1.0f;
    const float theta_extrap = theta / ff;
    const float theta_interp = freq_scale_ * theta_extrap;
    float angle = theta_interp;
    float mscale = attn_factor_;
    if (ext_factor_ != 0.0f) {
      const float ramp_mix = yarn_ramp(corr_dims_[0], corr_dims_[1], i0) * ext_factor_;
      angle = theta_interp * (1 - ramp_mix) + theta_extrap * ramp_mix;
      mscale *= 1.0f + 0.1f * std::log(1.0f / freq_scale_);
    }
    cos_sin[static_cast<std::size_t>(i0)] = std::cos(angle) * mscale;
    cos_sin[static_cast<std::size_t>(i0) + 1] = std::sin(angle) * mscale;
    theta *= theta_scale_;
  }
}

void Rope::apply(float* x, int n_heads, int pos) const {
  std::vector<float> cs;
  angles(pos, cs);
  for (int h = 0; h < n_heads; ++h) {
    float* v = x + static_cast<std::ptrdiff_t>(h) * head_dim_;
    for (int i0 = 0; i0 < n_dims_; i0 += 2) {
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
