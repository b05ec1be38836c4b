#pragma once
// The few fp32 operations of the int8 forward pass that the float kernels
// do not provide, each in one fixed order of operations (plain C++: the
// compiler may vectorise across the 16 lanes, never reorder within one,
// as the project compiles with -ffp-contract=off and no fast-math).

#include <cstddef>
#include <cstdint>

namespace lpu::int8 {

/// sum of a[i] * b[i] in fp32: each product rounded to float, element i
/// added to lane i % 16 in ascending order, then the lanes combined
/// pairwise (lane i + lane i+8, then +4, +2, +1), the reduction order of
/// the float kernels (kernels/float/lanes16-inl.h) kept in float.
float dot_f32(const float* a, const float* b, std::size_t n);

/// y[i] = y[i] + a * x[i] (product rounded, then the sum: no fused
/// multiply-add), for i < n.
void axpy_f32(float a, const float* x, std::size_t n, float* y);

/// The float value of an IEEE binary16 bit pattern (exact; a table lookup).
float f16_to_f32(std::uint16_t h);

/// float to binary16, round to nearest even.
std::uint16_t f32_to_f16(float f);

}  // namespace lpu::int8
