#pragma once
// PackedWeights: an int8 weight matrix W[n][k] in the "16c4" layout the
// int8 matmul kernels stream (pack_s8_16c4 builds it once, at load).
//
// Output channels are cut into panels of 16; a panel holds, for each group
// g of G consecutive k (ascending), one 64-byte header of the 16 fp32 scales
// of (column, g) followed by ceil(len_g / 4) 64-byte vectors. Vector v of a
// group holds, for its 16 columns j, the 4 consecutive weights
// k = g*G + 4v .. 4v+3 at bytes 4j .. 4j+3: one vpdpbusd lane per column.
// Bytes hold w + 128 (unsigned), the operand vpdpbusd multiplies as u8; the
// kernels take 128 * sum(x) back out per group (docs/quantization.md).
// Padding (k past the end of a short last group, columns past n) holds the
// byte 0 and the scale 0, so it adds nothing.
//
// Panels are contiguous, so a task owning a range of panels reads one
// linear stream; a 320 x 320 tile of the LPU is 20 panels x 80 vectors of
// one group at G = 320.

#include <cstddef>
#include <cstdint>

#include "kernels/pack/aligned_buffer.h"
#include "kernels/quantize/quantized_rows.h"

namespace lpu::kernels {

/// Output channels per panel (int32 lanes of one AVX-512 vector).
inline constexpr std::size_t kPanelColumns = 16;
/// Consecutive k per column inside one 64-byte vector (vpdpbusd's 4-way dot).
inline constexpr std::size_t kQuadK = 4;
/// Bytes of one packed vector and of a group header.
inline constexpr std::size_t kVectorBytes = 64;
/// The unsigned offset added to every stored weight.
inline constexpr int kWeightOffset = 128;

class PackedWeights {
 public:
  PackedWeights() = default;

  std::size_t n() const { return n_; }
  std::size_t k() const { return k_; }
  std::size_t group_size() const { return group_size_; }
  std::size_t groups() const { return groups_; }
  std::size_t panels() const { return panels_; }
  /// Bytes from one full group block to the next: 64 + 16 * G.
  std::size_t group_bytes() const { return group_bytes_; }
  /// Bytes of one panel (all its groups).
  std::size_t panel_bytes() const { return panel_bytes_; }
  /// Packed vectors of group g: G / 4, or ceil(len / 4) for a short last group.
  std::size_t group_quads(std::size_t g) const {
    return g + 1 < groups_ ? group_size_ / kQuadK : last_quads_;
  }
  /// The block (16 scales, then the vectors) of group g of panel p.
  const std::uint8_t* group_block(std::size_t p, std::size_t g) const {
    return data_.data() + p * panel_bytes_ + g * group_bytes_;
  }
  const std::uint8_t* data() const { return data_.data(); }
  /// Total bytes, scales and padding included.
  std::size_t size_bytes() const { return data_.size(); }

  /// The int8 matrix and scales back (the inverse of pack_s8_16c4; sums
  /// recomputed). For tests and inspection.
  QuantizedRows unpack() const;

 private:
  friend PackedWeights pack_s8_16c4(const QuantizedRows& w);

  std::size_t n_ = 0;
  std::size_t k_ = 0;
  std::size_t group_size_ = 0;
  std::size_t groups_ = 0;
  std::size_t panels_ = 0;
  std::size_t group_bytes_ = 0;
  std::size_t last_quads_ = 0;
  std::size_t panel_bytes_ = 0;
  AlignedBuffer data_;
};

/// Packs W[n][k] (rows = output channels) into the 16c4 layout.
PackedWeights pack_s8_16c4(const QuantizedRows& w);

}  // namespace lpu::kernels
