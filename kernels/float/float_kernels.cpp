#include "kernels/float/float_kernels.h"

#include "kernels/activation/add.h"
#include "kernels/activation/silu_mul.h"
#include "kernels/float/row_max.h"
#include "kernels/math/exp.h"
#include "kernels/norm/rmsnorm.h"
#include "kernels/rope/rope.h"
#include "kernels/softmax/softmax.h"
#include "kernels/topk/router_topk.h"

namespace lpu::kernels {
namespace {

#define LPU_FLOAT_TABLE(level, isa)                                         \
  FloatKernels {                                                            \
    level, exp_f32_x16_##isa, rmsnorm_f32_x16_##isa, softmax_f32_x16_##isa, \
        silu_mul_f32_x16_##isa, add_f32_x16_##isa, max_f32_x16_##isa,        \
        rope_norm_f32_x16_##isa,                                            \
        rope_neox_f32_x16_##isa, router_topk_f32_x16_##isa                  \
  }

constexpr FloatKernels kPortable = LPU_FLOAT_TABLE(Isa::kPortable, portable);
#if defined(__x86_64__)
constexpr FloatKernels kAvx2 = LPU_FLOAT_TABLE(Isa::kAvx2, avx2);
constexpr FloatKernels kAvx512 = LPU_FLOAT_TABLE(Isa::kAvx512Vnni, avx512f);
#endif

#undef LPU_FLOAT_TABLE

}  // namespace

const FloatKernels* float_kernels_for(Isa isa) {
  if (!cpu_supports(isa)) return nullptr;
  switch (isa) {
#if defined(__x86_64__)
    case Isa::kAvx512Vnni:
      return &kAvx512;
    case Isa::kAvx2:
      return &kAvx2;
#endif
    default:
      break;
  }
  return &kPortable;
}

const FloatKernels& float_kernels() {
  static const FloatKernels* table = float_kernels_for(active_isa());
  return *table;
}

}  // namespace lpu::kernels
