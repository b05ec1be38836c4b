#pragma once
// Non-owning views of the two operands of matmul_s8, so the kernel runs on
// bytes that live elsewhere (a backend's SRAM image) as well as on
// PackedWeights and QuantizedRows:
//  - PackedView: a W[n][k] in the 16c4 layout (kernels/pack/packed_weights.h),
//  - QuantizedView: int8 rows `stride` bytes apart with their per-group
//    scales and sums in [row][group] arrays.

#include <cstddef>
#include <cstdint>

#include "kernels/pack/packed_weights.h"
#include "kernels/quantize/quantized_rows.h"

namespace lpu::kernels {

struct PackedView {
  const std::uint8_t* data = nullptr;
  std::size_t n = 0, k = 0, group_size = 0, groups = 0, panels = 0;
  std::size_t group_bytes = 0, last_quads = 0, panel_bytes = 0;

  std::size_t group_quads(std::size_t g) const {
    return g + 1 < groups ? group_size / kQuadK : last_quads;
  }
  const std::uint8_t* group_block(std::size_t p, std::size_t g) const {
    return data + p * panel_bytes + g * group_bytes;
  }
};

/// The view of packed weights.
PackedView packed_view(const PackedWeights& w);
/// A view of `data` holding W[n][k] at group size G in the 16c4 layout.
PackedView packed_view(const std::uint8_t* data, std::size_t n, std::size_t k, std::size_t group_size);
/// Bytes of such a layout.
std::size_t packed_bytes(std::size_t n, std::size_t k, std::size_t group_size);

struct QuantizedView {
  const std::int8_t* q = nullptr;
  std::size_t stride = 0;  ///< bytes between rows
  std::size_t rows = 0, k = 0, group_size = 0, groups = 0;
  const float* scales = nullptr;        ///< [row][group]
  const std::int32_t* sums = nullptr;   ///< [row][group]

  const std::int8_t* row(std::size_t r) const { return q + r * stride; }
  const float* row_scales(std::size_t r) const { return scales + r * groups; }
  const std::int32_t* row_sums(std::size_t r) const { return sums + r * groups; }
};

QuantizedView quantized_view(const QuantizedRows& x);

}  // namespace lpu::kernels
