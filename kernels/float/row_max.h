#pragma once
// The largest value of a row, NaN skipped (-inf for an empty or all-NaN
// row): the 16-lane maximum of kernels/float/lanes16-inl.h. Exact in any
// order, so every variant gives the same value. Usually called through
// lpu::kernels::float_kernels().

#include <cstddef>

namespace lpu::kernels {

/// Portable scalar path (16 scalar lanes).
float max_f32_x16_portable(const float* x, std::size_t n);
/// AVX2 path; requires an AVX2 host.
float max_f32_x16_avx2(const float* x, std::size_t n);
/// AVX-512 path; requires an AVX-512F host.
float max_f32_x16_avx512f(const float* x, std::size_t n);

}  // namespace lpu::kernels
