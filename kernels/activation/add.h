#pragma once
// Residual add: y[i] = a[i] + b[i]. Every variant gives the same bits; y may
// alias a or b. Usually called through lpu::kernels::float_kernels().

#include <cstddef>

namespace lpu::kernels {

/// Portable scalar path.
void add_f32_x16_portable(const float* a, const float* b, std::size_t n, float* y);
/// AVX2 path; requires an AVX2 host.
void add_f32_x16_avx2(const float* a, const float* b, std::size_t n, float* y);
/// AVX-512 path; requires an AVX-512F host.
void add_f32_x16_avx512f(const float* a, const float* b, std::size_t n, float* y);

}  // namespace lpu::kernels
