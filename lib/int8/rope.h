#pragma once
// RoPE angles of the int8 forward pass: the reference pass's angles
// (lib/model/rope_angles.h), turned into cos/sin by the project's own
// sin/cos (kernels/rope), so a table is the same on every host.

#include <vector>

#include "include/lpu/model.h"
#include "lib/model/rope_angles.h"

namespace lpu::int8 {

class RopeAngles {
 public:
  /// `freq_factors` is empty or holds rope_dim/2 divisors (rope_freqs.weight).
  RopeAngles(const ModelConfig& config, std::vector<float> freq_factors);

  /// Rotated dimensions per head (even).
  int n_dims() const { return schedule_.n_dims(); }

  /// Fills cos_sin (n_dims floats: cos, sin per pair, times the attention
  /// factor) for position `pos`.
  void cos_sin(int pos, float* cos_sin) const;

 private:
  RopeAngleSchedule schedule_;
};

}  // namespace lpu::int8
