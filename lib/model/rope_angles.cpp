#include "lib/model/rope_angles.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <numbers>
#include <utility>

namespace lpu {
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

RopeAngleSchedule::RopeAngleSchedule(const ModelConfig& config, std::vector<float> freq_factors)
    : n_dims_(config.rope_dim),
      theta_scale_(std::pow(config.rope_theta, -2.0f / static_cast<float>(config.rope_dim))),
      freq_scale_(
          config.rope_scaling == RopeScalingType::kNone ? 1.0f : 1.0f / config.rope_scaling_factor),
      ext_factor_(config.rope_scaling == RopeScalingType::kYarn ? 1.0f : 0.0f),
      mscale_(config.rope_attn_factor),
      freq_factors_(std::move(freq_factors)) {
  // llama.cpp's default YaRN betas (beta_fast 32, beta_slow 1).
  const float start =
      std::floor(yarn_corr_dim(n_dims_, config.rope_orig_ctx, 32.0f, config.rope_theta));
  const float end =
      std::ceil(yarn_corr_dim(n_dims_, config.rope_orig_ctx, 1.0f, config.rope_theta));
  corr_dims_[0] = std::max(0.0f, start);
  corr_dims_[1] = std::min(static_cast<float>(n_dims_ - 1), end);
  if (ext_factor_ != 0.0f) mscale_ *= 1.0f + 0.1f * std::log(1.0f / freq_scale_);
}

void RopeAngleSchedule::angles(int pos, std::span<float> angles) const {
  float theta = static_cast<float>(pos);
  for (int p = 0; p < n_pairs(); ++p) {
    const int i0 = 2 * p;
    float ff = freq_factors_.empty() ? 1.0f : freq_factors_[static_cast<std::size_t>(p)];
    if (ff == 0.0f) ff = 1.0f;
    const float theta_extrap = theta / ff;
    const float theta_interp = freq_scale_ * theta_extrap;
    float angle = theta_interp;
    if (ext_factor_ != 0.0f) {
      const float ramp_mix = yarn_ramp(corr_dims_[0], corr_dims_[1], i0) * ext_factor_;
      angle = theta_interp * (1 - ramp_mix) + theta_extrap * ramp_mix;
    }
    angles[static_cast<std::size_t>(p)] = angle;
    theta *= theta_scale_;
  }
}

}  // namespace lpu
