#pragma once
// The operations of kernels/math/vec.h for xsimd batches. Included only by
// the per-ISA translation units (kernels/float/float_kernels_<isa>.cpp), which
// alone are compiled with that ISA's flags. Only xsimd's basic arithmetic,
// bitwise, compare, select, load/store and swizzle are used: each is one
// exactly rounded (or exact) instruction on every architecture, unlike
// xsimd's transcendental functions, whose algorithms differ by architecture.

#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <xsimd/xsimd.hpp>

#include "kernels/math/vec.h"

namespace lpu::kernels::vec {

template <class A>
struct Traits<xsimd::batch<float, A>> {
  using Int = xsimd::batch<std::int32_t, A>;
  using Mask = xsimd::batch_bool<float, A>;
  using Double = xsimd::batch<double, A>;
  static constexpr std::size_t kLanes = xsimd::batch<float, A>::size;
  static constexpr std::size_t kDoubleLanes = xsimd::batch<double, A>::size;
};

template <class A>
xsimd::batch<float, A> select(const xsimd::batch_bool<float, A>& m, const xsimd::batch<float, A>& a,
                              const xsimd::batch<float, A>& b) {
  return xsimd::select(m, a, b);
}
template <class A>
xsimd::batch<std::int32_t, A> as_int(const xsimd::batch<float, A>& x) {
  return xsimd::bitwise_cast<xsimd::batch<std::int32_t, A>>(x);
}
template <class A>
xsimd::batch<float, A> as_float(const xsimd::batch<std::int32_t, A>& i) {
  return xsimd::bitwise_cast<xsimd::batch<float, A>>(i);
}
template <class A>
xsimd::batch<float, A> sqrt(const xsimd::batch<float, A>& x) {
  return xsimd::sqrt(x);
}

template <class A>
void store(float* p, const xsimd::batch<float, A>& v) {
  v.store_unaligned(p);
}
template <class A>
void store(double* p, const xsimd::batch<double, A>& v) {
  v.store_unaligned(p);
}

#if defined(__AVX2__)
template <>
inline xsimd::batch<float, xsimd::avx2> load<xsimd::batch<float, xsimd::avx2>>(const float* p) {
  return xsimd::batch<float, xsimd::avx2>::load_unaligned(p);
}
inline void widen(const xsimd::batch<float, xsimd::avx2>& v,
                  xsimd::batch<double, xsimd::avx2>* out) {
  const __m256 x = v;
  out[0] = _mm256_cvtps_pd(_mm256_castps256_ps128(x));
  out[1] = _mm256_cvtps_pd(_mm256_extractf128_ps(x, 1));
}
#endif

#if defined(__AVX512F__)
template <>
inline xsimd::batch<float, xsimd::avx512f> load<xsimd::batch<float, xsimd::avx512f>>(
    const float* p) {
  return xsimd::batch<float, xsimd::avx512f>::load_unaligned(p);
}
inline void widen(const xsimd::batch<float, xsimd::avx512f>& v,
                  xsimd::batch<double, xsimd::avx512f>* out) {
  const __m512 x = v;
  out[0] = _mm512_cvtps_pd(_mm512_castps512_ps256(x));
  // AVX-512F has no 256-bit float extract; move the upper half as doubles.
  out[1] = _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(x), 1)));
}
#endif

namespace detail {
struct SwapPairs {
  static constexpr std::uint32_t get(std::size_t i, std::size_t) {
    return static_cast<std::uint32_t>(i ^ 1);
  }
};
struct DupEven {
  static constexpr std::uint32_t get(std::size_t i, std::size_t) {
    return static_cast<std::uint32_t>(i & ~std::size_t{1});
  }
};
struct DupOdd {
  static constexpr std::uint32_t get(std::size_t i, std::size_t) {
    return static_cast<std::uint32_t>(i | 1);
  }
};
}  // namespace detail

/// [a0 a1 a2 a3 ...] -> [a1 a0 a3 a2 ...]
template <class A>
xsimd::batch<float, A> swap_pairs(const xsimd::batch<float, A>& x) {
  return xsimd::swizzle(
      x, xsimd::make_batch_constant<xsimd::batch<std::uint32_t, A>, detail::SwapPairs>());
}
/// [a0 a1 a2 a3 ...] -> [a0 a0 a2 a2 ...]
template <class A>
xsimd::batch<float, A> dup_even(const xsimd::batch<float, A>& x) {
  return xsimd::swizzle(
      x, xsimd::make_batch_constant<xsimd::batch<std::uint32_t, A>, detail::DupEven>());
}
/// [a0 a1 a2 a3 ...] -> [a1 a1 a3 a3 ...]
template <class A>
xsimd::batch<float, A> dup_odd(const xsimd::batch<float, A>& x) {
  return xsimd::swizzle(
      x, xsimd::make_batch_constant<xsimd::batch<std::uint32_t, A>, detail::DupOdd>());
}

}  // namespace lpu::kernels::vec
