#pragma once
// Weight matrices in the int8 scheme: fp32 <-> int8 with per-(row, group)
// fp32 scales, rows being output channels (docs/quantization.md).

#include <cstddef>
#include <span>
#include <vector>

#include "include/lpu/status.h"
#include "kernels/quantize/quantized_rows.h"
#include "lib/quant/quant_config.h"

namespace lpu::quant {

/// Quantises W[rows][k] (row-major, `values` holds rows * k floats) in
/// groups of config.group_size with the same rule as the activations
/// (kernels/quantize): scale = max|x| / 127, q = roundf(x / scale).
Result<kernels::QuantizedRows> quantize_matrix(std::span<const float> values, std::size_t rows,
                                               std::size_t k, const QuantConfig& config);

/// q * scale for every element, [rows][k] row-major.
std::vector<float> dequantize_matrix(const kernels::QuantizedRows& q);

}  // namespace lpu::quant
