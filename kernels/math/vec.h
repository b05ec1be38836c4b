#pragma once
// The small set of vector operations the float kernels are written in, for
// plain scalars (the portable path). kernels/math/vec_xsimd.h provides the
// same names for xsimd batches. Every kernel body is a template over the
// float vector type F and calls only these operations and the arithmetic
// operators, each of which is one IEEE-754 correctly rounded operation (or
// exact), so a body gives the same bits whatever F is.
//
// Deliberately absent: min/max (their NaN and signed-zero rules differ by
// instruction set), approximate reciprocals, and library transcendentals.

#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>

namespace lpu::kernels::vec {

/// Types that go with a float vector type F: its 32-bit integer vector, its
/// comparison mask, the double vector of half its lanes (or the same for a
/// scalar) and its lane count.
template <class F>
struct Traits;

template <>
struct Traits<float> {
  using Int = std::int32_t;
  using Mask = bool;
  using Double = double;
  static constexpr std::size_t kLanes = 1;
  static constexpr std::size_t kDoubleLanes = 1;
};

template <class F>
inline constexpr std::size_t kLanesOf = Traits<F>::kLanes;

inline float select(bool m, float a, float b) { return m ? a : b; }
inline std::int32_t as_int(float x) { return std::bit_cast<std::int32_t>(x); }
inline float as_float(std::int32_t i) { return std::bit_cast<float>(i); }
inline float sqrt(float x) { return std::sqrt(x); }

template <class F>
F load(const float* p);
template <>
inline float load<float>(const float* p) {
  return *p;
}
inline void store(float* p, float v) { *p = v; }

/// Converts the lanes of v to double, exactly, into Traits<F>::kLanes /
/// kDoubleLanes double vectors, lowest lanes first.
inline void widen(float v, double* out) { out[0] = static_cast<double>(v); }
inline void store(double* p, double v) { *p = v; }

/// Lane shuffles within pairs, for vectors only (kernels/math/vec_xsimd.h);
/// scalar code addresses the pair's elements directly. Declared here so that
/// bodies naming them compile for the scalar path too.
template <class F>
F swap_pairs(const F& x);  // [a0 a1 a2 a3 ...] -> [a1 a0 a3 a2 ...]
template <class F>
F dup_even(const F& x);  // [a0 a1 a2 a3 ...] -> [a0 a0 a2 a2 ...]
template <class F>
F dup_odd(const F& x);  // [a0 a1 a2 a3 ...] -> [a1 a1 a3 a3 ...]

}  // namespace lpu::kernels::vec
