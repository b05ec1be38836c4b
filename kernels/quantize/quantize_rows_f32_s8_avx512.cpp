// quantize_rows_f32_s8 for AVX-512F (16 floats per step, masked tail).
// Only this file is compiled with AVX-512 flags.

#include <immintrin.h>

#include "kernels/quantize/quantize_rows_f32_s8-inl.h"
#include "kernels/quantize/quantize_rows_f32_s8.h"

namespace lpu::kernels {
namespace {

struct Avx512Isa {
  static __mmask16 tail_mask(std::size_t n) { return static_cast<__mmask16>((1u << n) - 1u); }
  static float abs_max(const float* x, std::size_t n) {
    __m512 m = _mm512_setzero_ps();
    for (std::size_t i = 0; i < n; i += 16) {
      const __mmask16 k = n - i >= 16 ? __mmask16(0xFFFF) : tail_mask(n - i);
      const __m512 a = _mm512_abs_ps(_mm512_maskz_loadu_ps(k, x + i));
      m = _mm512_max_ps(a, m);  // a NaN in `a` keeps m
    }
    alignas(64) float lanes[16];
    _mm512_store_ps(lanes, m);
    float r = 0.0f;
    for (float v : lanes) r = v > r ? v : r;
    return r;
  }
  // quantize_one on 16 lanes (see quantize_rows_f32_s8-inl.h).
  static __m512i quantize16(__m512 x, __m512 id) {
    const __m512 v = _mm512_mul_ps(x, id);
    const __m512 t = _mm512_roundscale_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    const __mmask16 away =
        _mm512_cmp_ps_mask(_mm512_abs_ps(_mm512_sub_ps(v, t)), _mm512_set1_ps(0.5f), _CMP_GE_OQ);
    const __m512 sign =
        _mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(v), _mm512_set1_epi32(INT32_MIN)));
    const __m512 one = _mm512_or_ps(sign, _mm512_set1_ps(1.0f));
    __m512 r = _mm512_mask_add_ps(t, away, t, one);
    r = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(v, v, _CMP_ORD_Q), r);
    r = _mm512_min_ps(_mm512_max_ps(r, _mm512_set1_ps(-127.0f)), _mm512_set1_ps(127.0f));
    return _mm512_cvtps_epi32(r);  // r is an integer: no rounding happens here
  }
  static std::int32_t quantize(const float* x, std::size_t n, float id, std::int8_t* q) {
    const __m512 vid = _mm512_set1_ps(id);
    __m512i sum = _mm512_setzero_si512();
    for (std::size_t i = 0; i < n; i += 16) {
      const __mmask16 k = n - i >= 16 ? __mmask16(0xFFFF) : tail_mask(n - i);
      const __m512i qi = quantize16(_mm512_maskz_loadu_ps(k, x + i), vid);
      sum = _mm512_add_epi32(sum, qi);  // masked-off lanes loaded 0, quantise to 0
      _mm512_mask_cvtepi32_storeu_epi8(q + i, k, qi);
    }
    alignas(64) std::int32_t lanes[16];
    _mm512_store_si512(lanes, sum);
    std::int32_t s = 0;
    for (std::int32_t v : lanes) s += v;
    return s;
  }
};

}  // namespace

void quantize_rows_f32_s8_avx512(const float* x, std::size_t x_stride, std::size_t rows,
                                 std::size_t k, std::size_t group_size, std::int8_t* q,
                                 std::size_t q_stride, float* scales, std::int32_t* sums) {
  quantize_body::quantize_rows<Avx512Isa>(x, x_stride, rows, k, group_size, q, q_stride, scales,
                                          sums);
}

}  // namespace lpu::kernels
