#include "lib/isa/tiled_layout.h"

#include <algorithm>

namespace lpu::isa {
namespace {

constexpr std::uint64_t kVectorBytes = 64;
constexpr std::uint32_t kPanelColumns = 16;
constexpr std::uint32_t kQuadK = 4;

std::uint64_t div_up(std::uint64_t a, std::uint64_t b) { return (a + b - 1) / b; }

}  // namespace

std::vector<Segment> k_segments(std::uint32_t k, std::uint32_t tile_k, std::uint32_t group) {
  std::vector<Segment> out;
  std::uint32_t k0 = 0;
  while (k0 < k) {
    const std::uint32_t next_tile = (k0 / tile_k + 1) * tile_k;
    const std::uint32_t next_group = (k0 / group + 1) * group;
    const std::uint32_t k1 = std::min({k, next_tile, next_group});
    Segment s;
    s.k0 = k0;
    s.k1 = k1;
    s.group = k0 / group;
    s.group_begin = k0 % group == 0;
    s.group_end = k1 == k || k1 % group == 0;
    out.push_back(s);
    k0 = k1;
  }
  return out;
}

std::uint64_t tile_block_bytes(std::uint32_t columns, std::uint32_t len) {
  return div_up(columns, kPanelColumns) * (kVectorBytes + kVectorBytes * div_up(len, kQuadK));
}

std::uint64_t tiled_matrix_bytes(std::uint32_t n, std::uint32_t k, std::uint32_t tile_n,
                                 std::uint32_t tile_k, std::uint32_t group) {
  std::uint64_t per_tile_k = 0;  // a full-width column tile's bytes, over all segments
  std::uint64_t last_tile_k = 0;
  const std::uint32_t last_cols = n % tile_n == 0 ? tile_n : n % tile_n;
  for (const Segment& s : k_segments(k, tile_k, group)) {
    per_tile_k += tile_block_bytes(tile_n, s.k1 - s.k0);
    last_tile_k += tile_block_bytes(last_cols, s.k1 - s.k0);
  }
  const std::uint64_t tiles = div_up(n, tile_n);
  return (tiles - 1) * per_tile_k + last_tile_k;
}

TiledAddress::TiledAddress(std::uint32_t n, std::uint32_t k, std::uint32_t tile_n,
                           std::uint32_t tile_k, std::uint32_t group)
    : n_(n), k_(k), tile_n_(tile_n), segments_(k_segments(k, tile_k, group)) {
  const std::uint32_t last_cols = n % tile_n == 0 ? tile_n : n % tile_n;
  full_prefix_.push_back(0);
  last_prefix_.push_back(0);
  for (const Segment& sg : segments_) {
    full_prefix_.push_back(full_prefix_.back() + tile_block_bytes(tile_n, sg.k1 - sg.k0));
    last_prefix_.push_back(last_prefix_.back() + tile_block_bytes(last_cols, sg.k1 - sg.k0));
  }
}

std::uint32_t TiledAddress::segment_of(std::uint32_t kk) const {
  const auto it = std::upper_bound(segments_.begin(), segments_.end(), kk,
                                   [](std::uint32_t v, const Segment& sg) { return v < sg.k0; });
  return static_cast<std::uint32_t>(it - segments_.begin()) - 1;
}

std::uint64_t TiledAddress::block_offset(std::uint32_t tile, std::uint32_t s) const {
  const bool last = (tile + 1) * std::uint64_t{tile_n_} >= n_;
  return tile * full_prefix_.back() + (last ? last_prefix_[s] : full_prefix_[s]);
}

std::uint64_t TiledAddress::value_offset(std::uint32_t col, std::uint32_t kk) const {
  const std::uint32_t s = segment_of(kk);
  const std::uint32_t in_tile = col % tile_n_;
  const std::uint32_t rel = kk - segments_[s].k0;
  const std::uint64_t panel = tile_block_bytes(kPanelColumns, segments_[s].k1 - segments_[s].k0);
  return block_offset(col / tile_n_, s) + (in_tile / kPanelColumns) * panel + kVectorBytes +
         (rel / kQuadK) * kVectorBytes + (in_tile % kPanelColumns) * kQuadK + rel % kQuadK;
}

std::uint64_t TiledAddress::scale_offset(std::uint32_t col, std::uint32_t kk) const {
  const std::uint32_t s = segment_of(kk);
  const std::uint32_t in_tile = col % tile_n_;
  const std::uint64_t panel = tile_block_bytes(kPanelColumns, segments_[s].k1 - segments_[s].k0);
  return block_offset(col / tile_n_, s) + (in_tile / kPanelColumns) * panel +
         (in_tile % kPanelColumns) * 4;
}

std::uint64_t TiledAddress::bytes() const {
  const std::uint64_t tiles = div_up(n_, tile_n_);
  return (tiles - 1) * full_prefix_.back() + last_prefix_.back();
}

std::uint64_t quantized_row_bytes(std::uint32_t k, std::uint32_t group) {
  return div_up(k, kVectorBytes) * kVectorBytes + div_up(k, group) * 8;
}

}  // namespace lpu::isa
