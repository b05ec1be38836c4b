#pragma once
// Softmax over one row: y[i] = e[i] * float(1 / sum(e)) with
// e[i] = exp_f32(x[i] - max(x)); max and the double sum in the fixed
// 16-lane order (kernels/float/lanes16-inl.h). NaN inputs, or a row that is
// all -inf, give NaN outputs. Every variant gives the same bits; y may alias
// x. Usually called through lpu::kernels::float_kernels().

#include <cstddef>

namespace lpu::kernels {

/// Portable scalar path (16 scalar lanes).
void softmax_f32_x16_portable(const float* x, std::size_t n, float* y);
/// AVX2 path; requires an AVX2 host.
void softmax_f32_x16_avx2(const float* x, std::size_t n, float* y);
/// AVX-512 path; requires an AVX-512F host.
void softmax_f32_x16_avx512f(const float* x, std::size_t n, float* y);

}  // namespace lpu::kernels
