#pragma once
// Row-wise quantisation of fp32 activations (or weights) to int8 with one
// fp32 scale per row and group of G (docs/quantization.md), the same
// formula on every path:
//
//   scale = max|x| / 127 over the group     (0 for an all-zero group)
//   id    = scale != 0 ? 1 / scale : 0
//   q     = round half away from zero (x * id), clamped to [-127, 127]
//
// which is ggml's quantize_row_q8_0 rule (roundf), so a Q8_0 block's bytes
// come out again from its own dequantised values. NaN inputs are ignored by
// the maximum and quantise to 0; the vector paths round exactly like roundf
// (not with the default round-to-nearest-even).

#include <cstddef>
#include <cstdint>

namespace lpu::kernels {

/// Quantises `rows` rows of `k` floats (rows `x_stride` floats apart) in
/// groups of `group_size`: values to q (rows `q_stride` bytes apart),
/// scales and sums of q to scales/sums ([row][group], ceil(k / G) per row).
using QuantizeRowsFn = void (*)(const float* x, std::size_t x_stride, std::size_t rows,
                                std::size_t k, std::size_t group_size, std::int8_t* q,
                                std::size_t q_stride, float* scales, std::int32_t* sums);

void quantize_rows_f32_s8_portable(const float* x, std::size_t x_stride, std::size_t rows,
                                   std::size_t k, std::size_t group_size, std::int8_t* q,
                                   std::size_t q_stride, float* scales, std::int32_t* sums);
void quantize_rows_f32_s8_avx2(const float* x, std::size_t x_stride, std::size_t rows,
                               std::size_t k, std::size_t group_size, std::int8_t* q,
                               std::size_t q_stride, float* scales, std::int32_t* sums);
void quantize_rows_f32_s8_avx512(const float* x, std::size_t x_stride, std::size_t rows,
                                 std::size_t k, std::size_t group_size, std::int8_t* q,
                                 std::size_t q_stride, float* scales, std::int32_t* sums);

}  // namespace lpu::kernels
