#pragma once
// Scalar oracles for the int8 kernels, written from the definition of the
// scheme (docs/quantization.md) and sharing no code with them: every kernel
// path must equal these bit for bit.

#include <cstddef>
#include <cstdint>

#include "kernels/quantize/quantized_rows.h"

namespace lpu::kernels {

/// y[m][n] (rows y_stride floats apart) from the unpacked weights W[n][k]
/// (w.rows() = n) and activations x[m][k]: per group the exact int64 sum of
/// x * w (checked to fit in int32, as the scheme guarantees), combined in
/// ascending group order as y = fma(float(isum), ws * xs, y) from y = 0.
void matmul_s8_reference(const QuantizedRows& w, const QuantizedRows& x, float* y,
                         std::size_t y_stride);

/// One row of k floats quantised in groups of group_size with std::roundf:
/// scale = max|x| / 127, id = scale != 0 ? 1 / scale : 0,
/// q = clamp(roundf(x * id), -127, 127), NaN -> 0; sums of q per group.
void quantize_row_reference(const float* x, std::size_t k, std::size_t group_size, std::int8_t* q,
                            float* scales, std::int32_t* sums);

}  // namespace lpu::kernels
