#pragma once
// exp over an array: y[i] = exp_f32(x[i]) (kernels/math/math.h) on every
// path, bit for bit; y may alias x. Usually called through
// lpu::kernels::float_kernels().

#include <cstddef>

namespace lpu::kernels {

/// Portable scalar path.
void exp_f32_x16_portable(const float* x, std::size_t n, float* y);
/// AVX2 path; requires an AVX2 host.
void exp_f32_x16_avx2(const float* x, std::size_t n, float* y);
/// AVX-512 path; requires an AVX-512F host.
void exp_f32_x16_avx512f(const float* x, std::size_t n, float* y);

}  // namespace lpu::kernels
