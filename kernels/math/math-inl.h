#pragma once
// exp, rsqrt and SiLU written once over a float vector type F (float, or an
// xsimd batch through kernels/math/vec_xsimd.h). Each function is a fixed
// sequence of correctly rounded IEEE operations with no FMA (the project
// compiles with -ffp-contract=off), so every F gives the same bits.
//
// Internal linkage on purpose: each per-ISA translation unit gets its own
// copy, compiled with its own flags, and the linker can never substitute an
// AVX-512 copy into the portable path.

#include <cstdint>

#include "kernels/math/vec.h"

namespace lpu::kernels {
namespace {

// exp(x) = 2^n * e^r with n = round(x / ln 2) and |r| <= ln2/2 (+ rounding).
// Inputs are clamped to [-104, 89]: exp(89) overflows to +inf and exp(-104)
// rounds to +0 through the same arithmetic, so infinities need no special
// case and NaN passes through every step (comparisons with NaN are false).
inline constexpr float kExpHi = 89.0f;
inline constexpr float kExpLo = -104.0f;
inline constexpr float kLog2e = 1.44269504088896341f;
// Adding 1.5 * 2^23 rounds to an integer (ties to even) and leaves that
// integer in the low mantissa bits: round() and float->int in one add.
inline constexpr float kRoundMagic = 12582912.0f;
inline constexpr std::int32_t kRoundMagicBits = 0x4B400000;
// ln 2 split: kLn2Hi has 16 significant bits, so n * kLn2Hi is exact for
// |n| <= 150 and t = x - n * kLn2Hi is exact (Sterbenz); n * kLn2Lo rounds
// by ~1e-11. The rounding of r = t - n * kLn2Lo (up to 0.18 ulp of the
// result) is recovered exactly as r_err and added back inside the series:
// with it the largest error over all floats drops from 1.02 to 0.94 ulp.
inline constexpr float kLn2Hi = 0.693145751953125f;
inline constexpr float kLn2Lo = 1.42860682030941723212e-6f;
// e^r = 1 + r + r^2 * P(r), P the Taylor series to r^5 (degree 7 overall):
// the truncation error is below r^8/8! < 6e-9 relative for |r| <= 0.35,
// a tenth of an ulp, so the rounding of the last additions dominates.
inline constexpr float kExpC2 = 1.0f / 2.0f;
inline constexpr float kExpC3 = 1.0f / 6.0f;
inline constexpr float kExpC4 = 1.0f / 24.0f;
inline constexpr float kExpC5 = 1.0f / 120.0f;
inline constexpr float kExpC6 = 1.0f / 720.0f;
inline constexpr float kExpC7 = 1.0f / 5040.0f;

/// e^x for every lane: less than 1 ulp from the exact value for normal
/// results (tests/kernels/float_math_test.cpp), gradual underflow to +0
/// below about -87.3, +inf above about 88.72, NaN for NaN.
template <class F>
F exp_v(F x) {
  using I = typename vec::Traits<F>::Int;
  x = vec::select(x > F(kExpHi), F(kExpHi), x);
  x = vec::select(x < F(kExpLo), F(kExpLo), x);
  const F shifted = x * F(kLog2e) + F(kRoundMagic);
  const F n = shifted - F(kRoundMagic);
  const F t = x - n * F(kLn2Hi);
  const F n_lo = n * F(kLn2Lo);
  const F r = t - n_lo;
  const F r_err = (t - r) - n_lo;
  F p = F(kExpC7);
  p = p * r + F(kExpC6);
  p = p * r + F(kExpC5);
  p = p * r + F(kExpC4);
  p = p * r + F(kExpC3);
  p = p * r + F(kExpC2);
  const F y = F(1.0f) + (r + ((r * r) * p + r_err));
  // 2^n as two factors 2^n1 * 2^n2 (n in [-150, 128]), each a normal float:
  // y * 2^n1 is exact and the second product rounds once, also into the
  // subnormal range and to infinity.
  const I ni = vec::as_int(shifted) - I(kRoundMagicBits);
  const I n1 = ni >> 1;
  const I n2 = ni - n1;
  const F s1 = vec::as_float((n1 + I(127)) << 23);
  const F s2 = vec::as_float((n2 + I(127)) << 23);
  return (y * s1) * s2;
}

/// 1 / sqrt(x): two correctly rounded operations (error below 1.5 ulp), not
/// an approximate reciprocal-square-root instruction.
template <class F>
F rsqrt_v(F x) {
  return F(1.0f) / vec::sqrt(x);
}

/// SiLU, x / (1 + e^-x), the same formula as the reference forward pass;
/// -inf gives NaN (-inf / inf) as there.
template <class F>
F silu_v(F x) {
  return x / (F(1.0f) + exp_v(-x));
}

}  // namespace
}  // namespace lpu::kernels
