#pragma once
// RoPE angles of the int8 forward pass: the reference pass's angles (GGML's
// NORM mode with linear or YaRN scaling and optional frequency divisors,
// built by repeated float multiplication), turned into cos/sin by the
// project's own sin/cos (kernels/rope), so a table is the same on every host.

#include <vector>

#include "include/lpu/model.h"

namespace lpu::int8 {

class RopeAngles {
 public:
  /// `freq_factors` is empty or holds rope_dim/2 divisors (rope_freqs.weight).
  RopeAngles(const ModelConfig& config, std::vector<float> freq_factors);

  /// Rotated dimensions per head (even).
  int n_dims() const { return n_dims_; }

  /// Fills cos_sin (n_dims floats: cos, sin per pair, times the attention
  /// factor) for position `pos`.
  void cos_sin(int pos, float* cos_sin) const;

 private:
  int n_dims_;
  float theta_scale_;
  float freq_scale_;
  float ext_factor_;
  float mscale_;
  float corr_dims_[2];
  std::vector<float> freq_factors_;
};

}  // namespace lpu::int8
