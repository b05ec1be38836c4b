// quantize_rows_f32_s8 for AVX2 (8 floats per step, scalar tail with the
// same formula). Only this file is compiled with AVX2 flags.

#include <immintrin.h>

#include "kernels/quantize/quantize_rows_f32_s8-inl.h"
#include "kernels/quantize/quantize_rows_f32_s8.h"

namespace lpu::kernels {
namespace {

struct Avx2Isa {
  static __m256 abs8(__m256 v) {
    return _mm256_and_ps(v, _mm256_castsi256_ps(_mm256_set1_epi32(INT32_MAX)));
  }
  static float abs_max(const float* x, std::size_t n) {
    __m256 m = _mm256_setzero_ps();
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8) m = _mm256_max_ps(abs8(_mm256_loadu_ps(x + i)), m);
    alignas(32) float lanes[8];
    _mm256_store_ps(lanes, m);
    float r = 0.0f;
    for (float v : lanes) r = v > r ? v : r;
    for (; i < n; ++i) r = quantize_body::max_abs_step<Avx2Isa>(r, x[i]);
    return r;
  }
  // quantize_one on 8 lanes (see quantize_rows_f32_s8-inl.h).
  static __m256i quantize8(__m256 x, __m256 id) {
    const __m256 v = _mm256_mul_ps(x, id);
    const __m256 t = _mm256_round_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    const __m256 away = _mm256_cmp_ps(abs8(_mm256_sub_ps(v, t)), _mm256_set1_ps(0.5f), _CMP_GE_OQ);
    const __m256 sign = _mm256_and_ps(v, _mm256_castsi256_ps(_mm256_set1_epi32(INT32_MIN)));
    const __m256 one = _mm256_or_ps(sign, _mm256_set1_ps(1.0f));
    __m256 r = _mm256_add_ps(t, _mm256_and_ps(away, one));
    r = _mm256_and_ps(r, _mm256_cmp_ps(v, v, _CMP_ORD_Q));
    r = _mm256_min_ps(_mm256_max_ps(r, _mm256_set1_ps(-127.0f)), _mm256_set1_ps(127.0f));
    return _mm256_cvtps_epi32(r);
  }
  static std::int32_t quantize(const float* x, std::size_t n, float id, std::int8_t* q) {
    const __m256 vid = _mm256_set1_ps(id);
    __m256i sum = _mm256_setzero_si256();
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8) {
      const __m256i qi = quantize8(_mm256_loadu_ps(x + i), vid);
      sum = _mm256_add_epi32(sum, qi);
      const __m128i w16 =
          _mm_packs_epi32(_mm256_castsi256_si128(qi), _mm256_extracti128_si256(qi, 1));
      _mm_storel_epi64(reinterpret_cast<__m128i*>(q + i), _mm_packs_epi16(w16, w16));
    }
    alignas(32) std::int32_t lanes[8];
    _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), sum);
    std::int32_t s = 0;
    for (std::int32_t v : lanes) s += v;
    for (; i < n; ++i) {
      q[i] = quantize_body::quantize_one<Avx2Isa>(x[i], id);
      s += q[i];
    }
    return s;
  }
};

}  // namespace

void quantize_rows_f32_s8_avx2(const float* x, std::size_t x_stride, std::size_t rows,
                               std::size_t k, std::size_t group_size, std::int8_t* q,
                               std::size_t q_stride, float* scales, std::int32_t* sums) {
  quantize_body::quantize_rows<Avx2Isa>(x, x_stride, rows, k, group_size, q, q_stride, scales,
                                        sums);
}

}  // namespace lpu::kernels
