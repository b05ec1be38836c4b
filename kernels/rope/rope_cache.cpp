// The per-position cos/sin table of RoPE. Scalar: n_dims / 2 sin/cos per
// position, shared by every head and layer, and so a single definition
// serves every ISA path.
#include "kernels/math/math.h"
#include "kernels/rope/rope.h"

namespace lpu::kernels {

void rope_cache_f32(std::int64_t pos, std::size_t n_dims, float theta_scale, float mscale,
                    float* cos_sin) {
  float theta = static_cast<float>(pos);
  for (std::size_t i = 0; i + 1 < n_dims; i += 2) {
    float s = 0.0f;
    float c = 0.0f;
    sincos_f32(theta, &s, &c);
    cos_sin[i] = c * mscale;
    cos_sin[i + 1] = s * mscale;
    theta *= theta_scale;
  }
}

void rope_cache_from_angles_f32(const float* angles, std::size_t n_pairs, float mscale,
                                float* cos_sin) {
  for (std::size_t i = 0; i < n_pairs; ++i) {
    float s = 0.0f;
    float c = 0.0f;
    sincos_f32(angles[i], &s, &c);
    cos_sin[2 * i] = c * mscale;
    cos_sin[2 * i + 1] = s * mscale;
  }
}

}  // namespace lpu::kernels
