// gemv/gemm_s8s8s32 tiles in plain C++: the same body and the same fp32
// operations as the SIMD paths (std::fma is the correctly rounded fused
// multiply-add they execute), so it gives the same bits on any CPU.

#include <cmath>
#include <cstring>

#include "kernels/gemm/gemm_s8s8s32-inl.h"

namespace lpu::kernels {
namespace {

struct PortableIsa {
  static constexpr int kMaxRows = 8;
  static constexpr int kAccRegs = 16;
  struct IAcc {
    std::int32_t v[kPanelColumns];
  };
  struct W {
    const std::uint8_t* p;
  };
  struct X {
    std::int32_t v[kQuadK];
  };

  LPU_KERNEL_INLINE static IAcc zero() { return {}; }
  LPU_KERNEL_INLINE static W load_w(const std::uint8_t* p) { return {p}; }
  LPU_KERNEL_INLINE static X bcast_x(const std::int8_t* p) { return {{p[0], p[1], p[2], p[3]}}; }
  // |w + 128| <= 255 and |x| <= 128: each group sum stays far inside int32
  // for G <= 65536 (kMaxGroupSize), so plain int arithmetic is exact.
  LPU_KERNEL_INLINE static IAcc dot(IAcc acc, W w, const X& x) {
    for (std::size_t j = 0; j < kPanelColumns; ++j) {
      std::int32_t s = 0;
      for (std::size_t t = 0; t < kQuadK; ++t) s += std::int32_t{w.p[j * kQuadK + t]} * x.v[t];
      acc.v[j] += s;
    }
    return acc;
  }
  LPU_KERNEL_INLINE static IAcc add(IAcc a, const IAcc& b) {
    for (std::size_t j = 0; j < kPanelColumns; ++j) a.v[j] += b.v[j];
    return a;
  }
  LPU_KERNEL_INLINE static void prefetch(const std::uint8_t* p) { __builtin_prefetch(p); }
  LPU_KERNEL_INLINE static void combine(const IAcc& acc, std::int32_t corr, const float* ws,
                                        float xs, float* out) {
    for (std::size_t j = 0; j < kPanelColumns; ++j) {
      float w_scale;
      std::memcpy(&w_scale, ws + j, sizeof(float));
      out[j] = std::fma(static_cast<float>(acc.v[j] - corr), w_scale * xs, out[j]);
    }
  }
};

}  // namespace

#define LPU_DEFINE_GEMV(MR, isa)                              \
  void gemv_s8s8s32_##MR##x16c4_##isa(const GemvArgs& args) { \
    gemm_body::gemv<PortableIsa, MR>(args);                   \
  }
#define LPU_DEFINE_GEMM(MR, isa)                                  \
  void gemm_s8s8s32_##MR##x16c4_##isa(const GemmTileArgs& args) { \
    gemm_body::gemm_tile<PortableIsa, MR, 1>(args);               \
  }

LPU_INT8_FOR_EACH_MR(LPU_DEFINE_GEMV, portable)
LPU_INT8_FOR_EACH_MR(LPU_DEFINE_GEMM, portable)

const GemmKernelSet& gemm_kernels_portable() {
  static const GemmKernelSet set = {
      {gemv_s8s8s32_1x16c4_portable, gemv_s8s8s32_2x16c4_portable, gemv_s8s8s32_3x16c4_portable,
       gemv_s8s8s32_4x16c4_portable, gemv_s8s8s32_5x16c4_portable, gemv_s8s8s32_6x16c4_portable,
       gemv_s8s8s32_7x16c4_portable, gemv_s8s8s32_8x16c4_portable},
      {{gemm_s8s8s32_1x16c4_portable},
       {gemm_s8s8s32_2x16c4_portable},
       {gemm_s8s8s32_3x16c4_portable},
       {gemm_s8s8s32_4x16c4_portable},
       {gemm_s8s8s32_5x16c4_portable},
       {gemm_s8s8s32_6x16c4_portable},
       {gemm_s8s8s32_7x16c4_portable},
       {gemm_s8s8s32_8x16c4_portable}},
      1,
  };
  return set;
}

}  // namespace lpu::kernels
