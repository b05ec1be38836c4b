#pragma once
// The KV cache of one sequence (one batch slot), int8 or fp16.
//
// int8 keeps keys and values in the 16c4 layout of the int8 matmul kernels
// (kernels/pack/packed_weights.h), so QK^T and PV run on the GEMV kernels
// straight from the cache (docs/quantization.md, "Attention in int8"):
//  - keys, per (layer, KV head): the "weights" of QK^T, W[token][d]: panels
//    of 16 tokens, each one group of head_dim with the 16 tokens' scales in
//    its header;
//  - values, per (layer, KV head): the "weights" of PV, W[d][token]:
//    panels of 16 dimensions, groups of G tokens, every header scale 1
//    (the per-token scales, kept beside, are folded into the probabilities).
// Each (token, KV head) row of head_dim values is quantised with the
// scheme's rule (scale = max|x| / 127, round half away from zero) as one
// group. Bytes past a sequence's position are never used: QK^T outputs
// past it are discarded and PV multiplies them by zero probabilities.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "include/lpu/int8_session.h"
#include "include/lpu/model.h"
#include "kernels/dispatch/int8_kernels.h"
#include "kernels/pack/aligned_buffer.h"

namespace lpu::int8 {

/// Sizes of the int8 cache layout.
struct KvLayout {
  KvLayout(const ModelConfig& config, int max_context, std::size_t group_size);

  std::size_t head_dim;
  /// The quantisation group of a key or value row: head_dim rounded up to
  /// a valid group size, so one (token, KV head) row is one group.
  std::size_t row_group;
  /// 64-byte vectors of one key row (ceil(head_dim / 4)).
  std::size_t k_quads;
  std::size_t k_panels;       ///< panels of 16 tokens
  std::size_t k_panel_bytes;  ///< header + k_quads vectors
  std::size_t v_group_size;   ///< G (tokens per value group)
  std::size_t v_panels;       ///< panels of 16 dimensions
  std::size_t v_groups;       ///< groups of G tokens
  std::size_t v_group_bytes;  ///< header + G / 4 vectors (all groups but the last)
  std::size_t v_panel_bytes;  ///< all groups, the last one up to max_context only
};

class KvCache {
 public:
  KvCache(const ModelConfig& config, int max_context, KvPrecision kv, std::size_t group_size);

  /// Bytes a cache with these parameters allocates (for memory checks).
  static std::uint64_t bytes_for(const ModelConfig& config, int max_context, KvPrecision kv,
                                 std::size_t group_size);

  const KvLayout& layout() const { return layout_; }
  KvPrecision precision() const { return kv_; }

  /// Stores the token at `pos` of layer `il`: `k` (rotated) and `v` hold
  /// n_head_kv * head_dim floats each.
  void store(int il, int pos, const float* k, const float* v, const kernels::Int8Kernels& kernels);

  // int8: the panels of (layer, KV head) and its values' per-token scales.
  const std::uint8_t* k_panels(int il, int head) const;
  const std::uint8_t* v_panels(int il, int head) const;
  const float* v_scales(int il, int head) const;

  // fp16: [position][n_head_kv * head_dim] bit patterns of layer il.
  const std::uint16_t* k_f16(int il) const;
  const std::uint16_t* v_f16(int il) const;

 private:
  std::size_t index(int il, int head) const;
  void store_int8(int il, int pos, const float* k, const float* v,
                  const kernels::Int8Kernels& kernels);

  KvLayout layout_;
  KvPrecision kv_;
  std::size_t n_head_kv_;
  std::size_t max_context_;
  kernels::AlignedBuffer k_;
  kernels::AlignedBuffer v_;
  std::vector<float> v_scales_;
  std::vector<std::uint16_t> k16_;
  std::vector<std::uint16_t> v16_;
};

}  // namespace lpu::int8
