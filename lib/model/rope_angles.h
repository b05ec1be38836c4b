#pragma once
// RoPE rotation angles as GGML computes them (ggml_rope_cache_init with
// rope_yarn): pair i at position pos turns by pos * theta_scale^i, the power
// built by repeated float multiplication as ggml does (not pow per pair),
// divided by the pair's frequency factor, then scaled linearly or blended by
// YaRN. The pair layout (NORM or NEOX) only decides which elements a pair
// rotates, not its angle. The reference pass takes std::cos/std::sin of these
// angles and the int8 pass the project's own portable sin/cos, so both passes
// start from the same floats.

#include <span>
#include <vector>

#include "include/lpu/model.h"

namespace lpu {

class RopeAngleSchedule {
 public:
  /// `freq_factors` is empty or holds rope_dim/2 divisors (rope_freqs.weight);
  /// a zero divisor counts as 1.
  RopeAngleSchedule(const ModelConfig& config, std::vector<float> freq_factors);

  /// Rotated dimensions per head (even).
  int n_dims() const { return n_dims_; }
  /// Rotated pairs per head.
  int n_pairs() const { return n_dims_ / 2; }

  /// Fills `angles` (n_pairs() floats) with the angle of each pair at `pos`.
  void angles(int pos, std::span<float> angles) const;

  /// What each cos and sin is multiplied by: the attention factor, times
  /// YaRN's magnitude correction 1 + 0.1 ln(1 / freq_scale) under YaRN. ggml
  /// recomputes it per pair; it is the same float for every pair.
  float mscale() const { return mscale_; }

 private:
  int n_dims_;
  float theta_scale_;
  float freq_scale_;
  float ext_factor_;
  float mscale_;
  float corr_dims_[2];
  std::vector<float> freq_factors_;
};

}  // namespace lpu
