#include "kernels/dispatch/int8_kernels.h"

namespace lpu::kernels {
namespace {

Int8Kernels make_table(Isa isa) {
  switch (isa) {
    case Isa::kAvx512Vnni:
      return {isa, &gemm_kernels_avx512vnni(), quantize_rows_f32_s8_avx512};
    case Isa::kAvx2:
      return {isa, &gemm_kernels_avx2(), quantize_rows_f32_s8_avx2};
    case Isa::kPortable:
      break;
  }
  return {Isa::kPortable, &gemm_kernels_portable(), quantize_rows_f32_s8_portable};
}

}  // namespace

const Int8Kernels* int8_kernels_for(Isa isa) {
  static const Int8Kernels tables[] = {make_table(Isa::kPortable), make_table(Isa::kAvx2),
                                       make_table(Isa::kAvx512Vnni)};
  if (!cpu_supports(isa)) return nullptr;
  return &tables[static_cast<int>(isa)];
}

const Int8Kernels& int8_kernels() {
  static const Int8Kernels* table = int8_kernels_for(active_isa());
  return *table;
}

}  // namespace lpu::kernels
