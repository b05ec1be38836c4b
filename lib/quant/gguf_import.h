#pragma once
// GGUF weights into the int8 scheme. Q8_0 at G = 32 is copied without
// loss (its bytes are the int8 values, its f16 d the scale, exactly); every
// other case is dequantised to fp32 by lib/gguf and requantised.

#include <cstddef>
#include <cstdint>
#include <span>

#include "include/lpu/status.h"
#include "kernels/quantize/quantized_rows.h"
#include "lib/gguf/file.h"
#include "lib/quant/quant_config.h"
#include "lib/quant/weight_transform.h"

namespace lpu::quant {

/// OK when `transform` fits an expert of rows x k values; otherwise an
/// invalid_argument saying what it holds.
Status fits(const TensorTransform& transform, std::size_t rows, std::size_t k);

/// A [rows][k] matrix from raw Q8_0 blocks (GGML layout: f16 d, then 32
/// int8), at G = 32: q copied, scale = float(d). k must be a multiple of
/// 32 and `blocks` exactly rows * k / 32 * 34 bytes.
Result<kernels::QuantizedRows> import_q8_0(std::span<const std::uint8_t> blocks, std::size_t rows,
                                           std::size_t k);

/// A tensor of `file` as int8 rows: row length dims[0], one row per
/// remaining index (all experts of a 3-D tensor, one after the other).
/// Q8_0 at G = 32 goes through import_q8_0; any other supported type or G
/// is dequantised row by row and requantised with config.group_size.
/// A non-empty `transform` (smoothing, rotation) changes each expert's
/// dequantised values before they are quantised; its sizes must match the
/// tensor's.
Result<kernels::QuantizedRows> import_tensor(const gguf::File& file, const gguf::TensorInfo& tensor,
                                             const QuantConfig& config, const TensorTransform& transform = {});

}  // namespace lpu::quant
