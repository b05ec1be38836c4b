#pragma once
// Scalar building blocks of the reference forward pass. Each follows the
// order of operations of the GGML CPU op it stands for (noted per function),
// so the reference stays within rounding of llama.cpp.

#include <Eigen/Core>

#include <span>
#include <vector>

#include "include/lpu/model.h"
#include "lib/model/rope_angles.h"

namespace lpu::reference {

/// A weight as GGML stores it: dims [n_in, n_out] are n_out rows of n_in, so
/// y = W x with W n_out x n_in row-major.
using MatrixRM = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// Each row of `x` RMS-normalised and multiplied by `weight`, in place:
/// x / sqrt(mean(x^2) + eps) * w, with the sum of squares in double and
/// the mean rounded to float before the square root (ggml_rms_norm then
/// ggml_mul).
void rms_norm_rows(MatrixRM& x, const Eigen::VectorXf& weight, float eps);

/// Softmax of `x` in place: exp(x - max) summed in double, then every term
/// times the float of 1/sum (ggml_soft_max).
void softmax(std::span<float> x);

/// x / (1 + exp(-x)) (ggml_silu).
float silu(float x);

/// Indices of the k largest values of `p`, largest first; ties go to the
/// lower index.
std::vector<int> top_k(std::span<const float> p, int k);

/// Rotary position embedding in GGML's NORM mode (adjacent pairs (2i, 2i+1)),
/// with linear or YaRN scaling and optional per-frequency divisors.
class Rope {
 public:
  /// `freq_factors` is empty or holds rope_dim/2 divisors (rope_freqs.weight).
  Rope(const ModelConfig& config, std::vector<float> freq_factors);

  /// Rotates the first rope_dim values of each of the `n_heads` heads of
  /// width head_dim stored back to back at `x`, for position `pos`.
  void apply(float* x, int n_heads, int pos) const;

 private:
  // cos/sin of each pair's angle at `pos`, as ggml_rope_cache_init builds them.
  void cos_sin(int pos, std::vector<float>& table) const;

  int head_dim_;
  RopeAngleSchedule schedule_;
};

}  // namespace lpu::reference
