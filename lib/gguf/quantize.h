#pragma once
// Encoding fp32 values into GGUF tensor types (the inverse of dequantize.h)
// for the types this project writes. Each encoder follows the GGML reference
// quantiser operation for operation, so the bytes equal what ggml and the
// `gguf` Python package produce for the same input.

#include <cstdint>

#include "lib/gguf/tensor_type.h"

namespace lpu::gguf {

/// float to bfloat16, round to nearest even; a NaN stays a quiet NaN (as
/// ggml's fp32-to-bf16 conversion does).
std::uint16_t f32_to_bf16(float f);

/// True for the types quantize_row can encode: F32, F16, BF16, Q8_0.
bool can_quantize(TensorType type);

/// Encodes `n` values of `src` as `type` into `dst`, which must hold
/// row_bytes(type, n) bytes; `n` must be a whole number of blocks and `type`
/// one for which can_quantize() holds.
///
/// Q8_0 is ggml's quantize_row_q8_0_ref: per block of 32, d = amax / 127,
/// id = d != 0 ? 1 / d : 0, q = roundf(x * id), and d stored as f16.
void quantize_row(TensorType type, const float* src, std::uint8_t* dst, std::uint64_t n);

}  // namespace lpu::gguf
