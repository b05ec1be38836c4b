#pragma once
// The SwiGLU gate: y[i] = silu_f32(gate[i]) * up[i], with SiLU
// x / (1 + exp_f32(-x)) (kernels/math/math.h). Every variant gives the same
// bits; y may alias gate or up. Usually called through
// lpu::kernels::float_kernels().

#include <cstddef>

namespace lpu::kernels {

/// Portable scalar path.
void silu_mul_f32_x16_portable(const float* gate, const float* up, std::size_t n, float* y);
/// AVX2 path; requires an AVX2 host.
void silu_mul_f32_x16_avx2(const float* gate, const float* up, std::size_t n, float* y);
/// AVX-512 path; requires an AVX-512F host.
void silu_mul_f32_x16_avx512f(const float* gate, const float* up, std::size_t n, float* y);

}  // namespace lpu::kernels
