#pragma once
// The project's own elementary functions, one implementation for every
// consumer: the float kernels (whose SIMD paths instantiate the same
// templates, kernels/math/math-inl.h), the CPU backend and the simulator.
// Results do not depend on the C library, the compiler's choice of
// instructions or the host's vector width.

namespace lpu::kernels {

/// e^x in float: less than 1 ulp from the exact value over the normal range
/// (the correctly rounded float or its neighbour), gradual underflow to +0,
/// +inf above ~88.72, NaN for NaN. Bit-identical to every SIMD lane of the
/// float kernels' exp.
float exp_f32(float x);

/// 1 / sqrt(x) as a correctly rounded square root then a correctly rounded
/// division (error below 1.5 ulp); +inf for +0, NaN for negative x.
float rsqrt_f32(float x);

/// SiLU: x / (1 + exp_f32(-x)).
float silu_f32(float x);

/// sin(x) in float for every finite x: the argument is reduced exactly
/// (integer arithmetic on 256 bits of 2/pi, so huge RoPE angles lose
/// nothing) and the series evaluated in double, so the result is the
/// correctly rounded sine except within ~1e-9 ulp of a rounding boundary.
/// NaN for +-inf and NaN.
float sin_f32(float x);

/// cos(x) in float; same method and accuracy as sin_f32.
float cos_f32(float x);

/// sin_f32(x) and cos_f32(x) with one argument reduction.
void sincos_f32(float x, float* sin_out, float* cos_out);

}  // namespace lpu::kernels
