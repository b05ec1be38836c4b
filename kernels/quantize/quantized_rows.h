#pragma once
// QuantizedRows: rows of int8 values with one fp32 scale per row and group
// of G consecutive elements (the project's int8 scheme, docs/quantization.md).
//
// The same container holds activations (one row per token, quantised at run
// time) and weights before packing (one row per output channel). Row r,
// element i has the value q[r][i] * scale[r][i / G]; sums[r][g] is the sum
// of q over group g, which the int8 matmul needs for its unsigned-offset
// correction. Rows are padded with zeros to a multiple of 64 bytes.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "kernels/pack/aligned_buffer.h"

namespace lpu::kernels {

/// Smallest and largest group sizes. G is a multiple of 32 (so Q8_0 blocks
/// and AVX-512 vectors never straddle a group), and G <= 65536 keeps every
/// int32 group sum exact, even with the +128 offset of the kernels:
/// 65536 * 255 * 128 < 2^31.
inline constexpr std::size_t kMinGroupSize = 32;
inline constexpr std::size_t kMaxGroupSize = 65536;

/// True when `group_size` is a multiple of 32 in [32, 65536].
constexpr bool valid_group_size(std::size_t group_size) {
  return group_size >= kMinGroupSize && group_size <= kMaxGroupSize && group_size % 32 == 0;
}

/// Number of groups of `group_size` covering `k` elements (the last one may
/// be shorter).
constexpr std::size_t group_count(std::size_t k, std::size_t group_size) {
  return (k + group_size - 1) / group_size;
}

class QuantizedRows {
 public:
  QuantizedRows() = default;
  /// `rows` zero rows of `k` elements in groups of `group_size` (which must
  /// satisfy valid_group_size; `k` >= 1).
  QuantizedRows(std::size_t rows, std::size_t k, std::size_t group_size);

  std::size_t rows() const { return rows_; }
  std::size_t k() const { return k_; }
  std::size_t group_size() const { return group_size_; }
  std::size_t groups() const { return groups_; }
  /// Bytes from one row to the next (k rounded up to 64).
  std::size_t stride() const { return stride_; }

  std::int8_t* row(std::size_t r) {
    return reinterpret_cast<std::int8_t*>(q_.data()) + r * stride_;
  }
  const std::int8_t* row(std::size_t r) const {
    return reinterpret_cast<const std::int8_t*>(q_.data()) + r * stride_;
  }
  /// groups() scales of row r.
  float* scales(std::size_t r) { return scales_.data() + r * groups_; }
  const float* scales(std::size_t r) const { return scales_.data() + r * groups_; }
  /// groups() sums of q of row r.
  std::int32_t* sums(std::size_t r) { return sums_.data() + r * groups_; }
  const std::int32_t* sums(std::size_t r) const { return sums_.data() + r * groups_; }

  /// Recomputes sums() from the values (after q or scales were written
  /// directly, e.g. by an importer).
  void update_sums();

 private:
  std::size_t rows_ = 0;
  std::size_t k_ = 0;
  std::size_t group_size_ = 0;
  std::size_t groups_ = 0;
  std::size_t stride_ = 0;
  AlignedBuffer q_;
  std::vector<float> scales_;
  std::vector<std::int32_t> sums_;
};

}  // namespace lpu::kernels
