// gemv/gemm_s8s8s32 tiles for AVX-512 VNNI. Only this file is compiled with
// AVX-512 flags (kernels/gemm/CMakeLists.txt).
//
// One vpdpbusd per weight vector and row: the 64 packed bytes (w + 128,
// unsigned) times the row's 4 activations broadcast to all 16 lanes (signed,
// the operand vpdpbusd may take from memory), summed into 16 int32 lanes.
// vpdpbusd does not saturate and every product is at most 255 * 128, so
// the sums are exact.

#include <immintrin.h>

#include <cstring>

#include "kernels/gemm/gemm_s8s8s32-inl.h"

namespace lpu::kernels {
namespace {

struct Avx512VnniIsa {
  static constexpr int kMaxRows = 8;
  static constexpr int kAccRegs = 1;
  using IAcc = __m512i;
  using W = __m512i;
  using X = __m512i;

  LPU_KERNEL_INLINE static IAcc zero() { return _mm512_setzero_si512(); }
  LPU_KERNEL_INLINE static W load_w(const std::uint8_t* p) { return _mm512_load_si512(p); }
  LPU_KERNEL_INLINE static X bcast_x(const std::int8_t* p) {
    std::int32_t v;
    std::memcpy(&v, p, sizeof(v));
    return _mm512_set1_epi32(v);
  }
  LPU_KERNEL_INLINE static IAcc dot(IAcc acc, W w, X x) {
#if defined(__GNUC__) && !defined(__clang__)
    // GCC 12 copies the accumulator through another register around every
    // _mm512_dpbusd_epi32 (two extra moves per instruction, spills in the
    // 8 x 48 tile); the same instruction as inline asm with a tied operand
    // keeps each accumulator in its own register.
    asm("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(w), "v"(x));
    return acc;
#else
    return _mm512_dpbusd_epi32(acc, w, x);
#endif
  }
  LPU_KERNEL_INLINE static IAcc add(IAcc a, IAcc b) { return _mm512_add_epi32(a, b); }
  LPU_KERNEL_INLINE static void prefetch(const std::uint8_t* p) {
    _mm_prefetch(reinterpret_cast<const char*>(p), _MM_HINT_T0);
  }
  LPU_KERNEL_INLINE static void combine(IAcc acc, std::int32_t corr, const float* ws, float xs,
                                        float* out) {
    const __m512i isum = _mm512_sub_epi32(acc, _mm512_set1_epi32(corr));
    const __m512 scale = _mm512_mul_ps(_mm512_loadu_ps(ws), _mm512_set1_ps(xs));
    _mm512_storeu_ps(out, _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum), scale, _mm512_loadu_ps(out)));
  }
};

}  // namespace

#define LPU_DEFINE_GEMV(MR, isa)                              \
  void gemv_s8s8s32_##MR##x16c4_##isa(const GemvArgs& args) { \
    gemm_body::gemv<Avx512VnniIsa, MR>(args);                 \
  }
#define LPU_DEFINE_GEMM(MR, NR)                                            \
  void gemm_s8s8s32_##MR##x##NR##c4_avx512vnni(const GemmTileArgs& args) { \
    gemm_body::gemm_tile<Avx512VnniIsa, MR, NR / 16>(args);                \
  }
#define LPU_DEFINE_GEMM_ALL(MR, unused) \
  LPU_DEFINE_GEMM(MR, 16) LPU_DEFINE_GEMM(MR, 32) LPU_DEFINE_GEMM(MR, 48)

LPU_INT8_FOR_EACH_MR(LPU_DEFINE_GEMV, avx512vnni)
LPU_INT8_FOR_EACH_MR(LPU_DEFINE_GEMM_ALL, 0)

#define LPU_ROW(MR)                                                           \
  {                                                                           \
    gemm_s8s8s32_##MR##x16c4_avx512vnni, gemm_s8s8s32_##MR##x32c4_avx512vnni, \
        gemm_s8s8s32_##MR##x48c4_avx512vnni                                   \
  }

const GemmKernelSet& gemm_kernels_avx512vnni() {
  static const GemmKernelSet set = {
      {gemv_s8s8s32_1x16c4_avx512vnni, gemv_s8s8s32_2x16c4_avx512vnni,
       gemv_s8s8s32_3x16c4_avx512vnni, gemv_s8s8s32_4x16c4_avx512vnni,
       gemv_s8s8s32_5x16c4_avx512vnni, gemv_s8s8s32_6x16c4_avx512vnni,
       gemv_s8s8s32_7x16c4_avx512vnni, gemv_s8s8s32_8x16c4_avx512vnni},
      {LPU_ROW(1), LPU_ROW(2), LPU_ROW(3), LPU_ROW(4), LPU_ROW(5), LPU_ROW(6), LPU_ROW(7),
       LPU_ROW(8)},
      3,
  };
  return set;
}

}  // namespace lpu::kernels
