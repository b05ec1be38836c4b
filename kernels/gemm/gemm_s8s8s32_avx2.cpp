// gemv/gemm_s8s8s32 tiles for AVX2 + FMA. Only this file is compiled with
// AVX2 flags (kernels/gemm/CMakeLists.txt).
//
// AVX2 has no vpdpbusd, and vpmaddubsw (u8 x s8, pairs summed into int16)
// saturates: 2 * 255 * 127 > 32767. So both operands are widened to int16
// (weights zero-extended from w + 128, activations sign-extended) and
// vpmaddwd sums pairs into int32, which is exact for any bytes. The lanes
// then hold (column, k pair) partial sums; they are added per column only
// at the end of the group.

#include <immintrin.h>

#include <cstring>

#include "kernels/gemm/gemm_s8s8s32-inl.h"

namespace lpu::kernels {
namespace {

struct Avx2Isa {
  // An accumulator takes 4 ymm: 2 rows x 4 + 4 weight + 2 activation
  // registers use 14 of the 16, so a pass is 2 rows.
  static constexpr int kMaxRows = 2;
  static constexpr int kAccRegs = 4;
  // v[i] covers columns 4i .. 4i+3; int32 lane 2c + h of each 128-bit half
  // holds column c's pair h (k = 2h, 2h + 1 of the quad).
  struct IAcc {
    __m256i v[4];
  };
  struct W {
    __m256i v[4];
  };
  using X = __m256i;

  LPU_KERNEL_INLINE static IAcc zero() {
    const __m256i z = _mm256_setzero_si256();
    return {{z, z, z, z}};
  }
  LPU_KERNEL_INLINE static W load_w(const std::uint8_t* p) {
    W w;
    for (int i = 0; i < 4; ++i) {
      w.v[i] = _mm256_cvtepu8_epi16(_mm_load_si128(reinterpret_cast<const __m128i*>(p + 16 * i)));
    }
    return w;
  }
  // The quad's 4 activations as int16, repeated across the register.
  LPU_KERNEL_INLINE static X bcast_x(const std::int8_t* p) {
    std::int32_t v;
    std::memcpy(&v, p, sizeof(v));
    return _mm256_cvtepi8_epi16(_mm_set1_epi32(v));
  }
  LPU_KERNEL_INLINE static IAcc dot(IAcc acc, const W& w, X x) {
    for (int i = 0; i < 4; ++i) acc.v[i] = _mm256_add_epi32(acc.v[i], _mm256_madd_epi16(w.v[i], x));
    return acc;
  }
  LPU_KERNEL_INLINE static IAcc add(IAcc a, const IAcc& b) {
    for (int i = 0; i < 4; ++i) a.v[i] = _mm256_add_epi32(a.v[i], b.v[i]);
    return a;
  }
  LPU_KERNEL_INLINE static void prefetch(const std::uint8_t* p) {
    _mm_prefetch(reinterpret_cast<const char*>(p), _MM_HINT_T0);
  }
  // Columns 8h .. 8h+7 from v[2h], v[2h+1]: hadd gives, per 128-bit half,
  // [c0 c1 c4 c5 | c2 c3 c6 c7]; the 64-bit permute 0,2,1,3 orders them.
  LPU_KERNEL_INLINE static __m256i column_sums(__m256i a, __m256i b) {
    return _mm256_permute4x64_epi64(_mm256_hadd_epi32(a, b), 0xD8);
  }
  LPU_KERNEL_INLINE static void combine(const IAcc& acc, std::int32_t corr, const float* ws,
                                        float xs, float* out) {
    const __m256i c = _mm256_set1_epi32(corr);
    const __m256 s = _mm256_set1_ps(xs);
    for (int h = 0; h < 2; ++h) {
      const __m256i isum = _mm256_sub_epi32(column_sums(acc.v[2 * h], acc.v[2 * h + 1]), c);
      const __m256 scale = _mm256_mul_ps(_mm256_loadu_ps(ws + 8 * h), s);
      _mm256_storeu_ps(out + 8 * h, _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), scale,
                                                    _mm256_loadu_ps(out + 8 * h)));
    }
  }
};

}  // namespace

#define LPU_DEFINE_GEMV(MR, isa) \
  void gemv_s8s8s32_##MR##x16c4_##isa(const GemvArgs& args) { gemm_body::gemv<Avx2Isa, MR>(args); }
#define LPU_DEFINE_GEMM(MR, isa)                                  \
  void gemm_s8s8s32_##MR##x16c4_##isa(const GemmTileArgs& args) { \
    gemm_body::gemm_tile<Avx2Isa, MR, 1>(args);                   \
  }

LPU_INT8_FOR_EACH_MR(LPU_DEFINE_GEMV, avx2)
LPU_INT8_FOR_EACH_MR(LPU_DEFINE_GEMM, avx2)

const GemmKernelSet& gemm_kernels_avx2() {
  static const GemmKernelSet set = {
      {gemv_s8s8s32_1x16c4_avx2, gemv_s8s8s32_2x16c4_avx2, gemv_s8s8s32_3x16c4_avx2,
       gemv_s8s8s32_4x16c4_avx2, gemv_s8s8s32_5x16c4_avx2, gemv_s8s8s32_6x16c4_avx2,
       gemv_s8s8s32_7x16c4_avx2, gemv_s8s8s32_8x16c4_avx2},
      {{gemm_s8s8s32_1x16c4_avx2},
       {gemm_s8s8s32_2x16c4_avx2},
       {gemm_s8s8s32_3x16c4_avx2},
       {gemm_s8s8s32_4x16c4_avx2},
       {gemm_s8s8s32_5x16c4_avx2},
       {gemm_s8s8s32_6x16c4_avx2},
       {gemm_s8s8s32_7x16c4_avx2},
       {gemm_s8s8s32_8x16c4_avx2}},
      1,
  };
  return set;
}

}  // namespace lpu::kernels
