#pragma once
// The fp32 dot product and axpy of attention over an fp16 cache and of the
// MoE router, each in one fixed order of operations (plain C++: the
// compiler may vectorise across the 16 lanes, never reorder within one,
// as the project compiles with -ffp-contract=off and no fast-math).

#include <cstddef>

namespace lpu::kernels {

/// sum of a[i] * b[i] in fp32: each product rounded to float, element i
/// added to lane i % 16 in ascending order, then the lanes combined
/// pairwise (lane i + lane i+8, then +4, +2, +1), the reduction order of
/// the float kernels (kernels/float/lanes16-inl.h) kept in float.
float dot_f32(const float* a, const float* b, std::size_t n);

/// y[i] = y[i] + a * x[i] (product rounded, then the sum: no fused
/// multiply-add), for i < n.
void axpy_f32(float a, const float* x, std::size_t n, float* y);

}  // namespace lpu::kernels
