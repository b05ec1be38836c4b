#pragma once
// Dequantisation of GGUF tensor data to fp32, exactly as each block format
// defines it (same operations in the same order as the GGML reference
// dequantisers, so the results match them to the bit).

#include <cstdint>
#include <vector>

#include "include/lpu/status.h"
#include "lib/gguf/file.h"
#include "lib/gguf/tensor_type.h"

namespace lpu::gguf {

/// IEEE binary16 / bfloat16 bit patterns to float (exact).
float f16_to_f32(std::uint16_t h);
float bf16_to_f32(std::uint16_t h);
/// float to binary16, round to nearest even (overflow to inf, NaN kept).
std::uint16_t f32_to_f16(float f);

/// Dequantises `n` values (a whole number of blocks of `type`) from `src`.
/// `type` must be supported and `src` must hold row_bytes(type, n) bytes.
void dequantize_row(TensorType type, const std::uint8_t* src, float* dst, std::uint64_t n);

/// The whole tensor as fp32 (GGML order, row-major over dims[0]).
Result<std::vector<float>> dequantize_tensor(const File& file, const TensorInfo& tensor);

}  // namespace lpu::gguf
