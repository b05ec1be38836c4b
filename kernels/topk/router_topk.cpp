// Top-k selection and renormalisation of the MoE router: scalar (k is a
// handful of experts), shared by every ISA path.
#include "kernels/topk/router_topk.h"

#include <cmath>

namespace lpu::kernels {
namespace {

// The rank order: larger first, equal by lower index, NaN last.
bool ranks_before(float pa, std::size_t a, float pb, std::size_t b) {
  const bool nan_a = std::isnan(pa);
  const bool nan_b = std::isnan(pb);
  if (nan_a != nan_b) return nan_b;
  if (!nan_a && pa != pb) return pa > pb;
  return a < b;
}

// llama.cpp clamps the sum of the chosen weights below at 2^-14.
constexpr float kMinWeightSum = 6.103515625e-5f;

}  // namespace

void topk_select_f32(const float* probs, std::size_t n, std::size_t k, bool normalize,
                     std::int32_t* experts, float* weights) {
  if (k > n) k = n;
  // Pass j takes the best element ranked after the one pass j-1 took.
  for (std::size_t j = 0; j < k; ++j) {
    std::size_t best = n;
    for (std::size_t e = 0; e < n; ++e) {
      if (j > 0) {
        const auto prev = static_cast<std::size_t>(experts[j - 1]);
        if (!ranks_before(probs[prev], prev, probs[e], e)) continue;
      }
      if (best == n || ranks_before(probs[e], e, probs[best], best)) best = e;
    }
    experts[j] = static_cast<std::int32_t>(best);
    weights[j] = probs[best];
  }
  if (!normalize) return;
  double sum = 0.0;
  for (std::size_t j = 0; j < k; ++j) sum += static_cast<double>(weights[j]);
  float norm = static_cast<float>(sum);
  if (norm < kMinWeightSum) norm = kMinWeightSum;
  for (std::size_t j = 0; j < k; ++j) weights[j] = weights[j] / norm;
}

}  // namespace lpu::kernels
