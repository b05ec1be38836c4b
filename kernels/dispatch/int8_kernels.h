#pragma once
// The int8 kernel table: the GEMV/GEMM tiles and the row quantiser of one
// ISA, filled once. int8_kernels() is the table of active_isa();
// int8_kernels_for() gives any path the CPU supports (tests compare them).

#include "kernels/dispatch/isa.h"
#include "kernels/gemm/gemm_s8s8s32.h"
#include "kernels/quantize/quantize_rows_f32_s8.h"

namespace lpu::kernels {

struct Int8Kernels {
  Isa isa;
  const GemmKernelSet* gemm;
  QuantizeRowsFn quantize_rows;
};

/// The table of active_isa().
const Int8Kernels& int8_kernels();

/// The table of `isa`, or nullptr when this CPU cannot run it.
const Int8Kernels* int8_kernels_for(Isa isa);

}  // namespace lpu::kernels
