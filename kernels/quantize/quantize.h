#pragma once
// quantize_rows: fp32 rows into a QuantizedRows through the dispatched
// quantize_rows_f32_s8 kernel (every path gives the same bytes).

#include <cstddef>

#include "kernels/dispatch/int8_kernels.h"
#include "kernels/quantize/quantized_rows.h"

namespace lpu::kernels {

/// Quantises out.rows() rows of out.k() floats, `x_stride` floats apart,
/// into `out` (its shape and group size say what to expect). `kernels`
/// picks a path; null means int8_kernels().
void quantize_rows(const float* x, std::size_t x_stride, QuantizedRows& out,
                   const Int8Kernels* kernels = nullptr);

/// The same for rows [first, first + count) of `out` only, from `count`
/// rows of x.
void quantize_rows(const float* x, std::size_t x_stride, QuantizedRows& out, std::size_t first,
                   std::size_t count, const Int8Kernels* kernels = nullptr);

}  // namespace lpu::kernels
