#pragma once
// RMSNorm over one row: y[i] = (x[i] * scale) * weight[i] with
// scale = 1 / sqrt(float(sum(x[j]^2) / n) + eps), the squares rounded to
// float and summed in double in the fixed 16-lane order
// (kernels/float/lanes16-inl.h). Every variant gives the same bits; y may
// alias x. Usually called through lpu::kernels::float_kernels().

#include <cstddef>

namespace lpu::kernels {

/// Portable scalar path (16 scalar lanes).
void rmsnorm_f32_x16_portable(const float* x, const float* weight, std::size_t n, float eps,
                              float* y);
/// AVX2 path; requires an AVX2 host.
void rmsnorm_f32_x16_avx2(const float* x, const float* weight, std::size_t n, float eps, float* y);
/// AVX-512 path; requires an AVX-512F host.
void rmsnorm_f32_x16_avx512f(const float* x, const float* weight, std::size_t n, float eps,
                             float* y);

}  // namespace lpu::kernels
