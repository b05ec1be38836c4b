#pragma once
// Byte sizes of the data layouts instructions address (docs/isa.md):
//  - the tiled 16c4 weight layout: a matrix's output columns in tiles of
//    tile_n, its K in segments that stop at every multiple of the K tile
//    and of the group size G; one contiguous block per (column tile,
//    segment), in that order (segments ascending within a tile). A block
//    holds, per panel of 16 columns, a 64-byte header of the 16 fp32 scales
//    of the segment's group, then ceil(len / 4) vectors of 64 bytes: the
//    16c4 layout of kernels/pack restricted to the segment, so one block is
//    what one matrix pass loads;
//  - quantised rows: per row, k int8 values padded to 64 bytes, then per
//    group one fp32 scale and one int32 sum.

#include <cstdint>
#include <vector>

namespace lpu::isa {

/// One K segment [k0, k1) of a matrix pass; `group` is the group it lies in.
struct Segment {
  std::uint32_t k0 = 0;
  std::uint32_t k1 = 0;
  std::uint32_t group = 0;
  bool group_begin = false;  ///< first segment of its group
  bool group_end = false;    ///< last segment of its group
};

/// The K segments of a matrix with `k` inputs, tile_k and G.
std::vector<Segment> k_segments(std::uint32_t k, std::uint32_t tile_k, std::uint32_t group);

/// Bytes of one block: `columns` output columns x a segment of `len` k.
std::uint64_t tile_block_bytes(std::uint32_t columns, std::uint32_t len);

/// Bytes of rows [0, n) x k in the tiled layout.
std::uint64_t tiled_matrix_bytes(std::uint32_t n, std::uint32_t k, std::uint32_t tile_n,
                                 std::uint32_t tile_k, std::uint32_t group);

/// Where each weight and scale of a tiled matrix lives: the one
/// computation of the tiled 16c4 addressing, used to pack weights, to lay
/// out and append to the KV cache, and to read blocks back.
class TiledAddress {
 public:
  TiledAddress(std::uint32_t n, std::uint32_t k, std::uint32_t tile_n, std::uint32_t tile_k,
               std::uint32_t group);

  const std::vector<Segment>& segments() const { return segments_; }
  /// Index of the segment holding k index `kk` (< k).
  std::uint32_t segment_of(std::uint32_t kk) const;
  /// Byte offset of the block of column tile `tile`, segment `s`.
  std::uint64_t block_offset(std::uint32_t tile, std::uint32_t s) const;
  /// Byte offset of weight (column `col`, k index `kk`).
  std::uint64_t value_offset(std::uint32_t col, std::uint32_t kk) const;
  /// Byte offset of the fp32 scale of column `col` in the block holding `kk`.
  std::uint64_t scale_offset(std::uint32_t col, std::uint32_t kk) const;
  /// Total bytes (tiled_matrix_bytes).
  std::uint64_t bytes() const;

 private:
  std::uint32_t n_, k_, tile_n_;
  std::vector<Segment> segments_;
  std::vector<std::uint64_t> full_prefix_;  // block offsets inside a full tile, plus its size
  std::vector<std::uint64_t> last_prefix_;  // the same for the last tile
};

/// Bytes from one quantised row to the next, and of `rows` rows.
std::uint64_t quantized_row_bytes(std::uint32_t k, std::uint32_t group);
inline std::uint64_t quantized_rows_bytes(std::uint32_t rows, std::uint32_t k,
                                          std::uint32_t group) {
  return std::uint64_t{rows} * quantized_row_bytes(k, group);
}

}  // namespace lpu::isa
