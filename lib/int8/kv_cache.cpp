#include "lib/int8/kv_cache.h"

#include <cstring>
#include <limits>

#include "kernels/pack/packed_weights.h"
#include "lib/int8/float_ops.h"

namespace lpu::int8 {
namespace {

using kernels::kPanelColumns;
using kernels::kQuadK;
using kernels::kVectorBytes;
using kernels::kWeightOffset;

std::size_t ceil_div(std::size_t a, std::size_t b) { return (a + b - 1) / b; }

std::uint64_t mul_sat(std::uint64_t a, std::uint64_t b) {
  if (a != 0 && b > std::numeric_limits<std::uint64_t>::max() / a) {
    return std::numeric_limits<std::uint64_t>::max();
  }
  return a * b;
}

std::uint64_t add_sat(std::uint64_t a, std::uint64_t b) {
  return b > std::numeric_limits<std::uint64_t>::max() - a
             ? std::numeric_limits<std::uint64_t>::max()
             : a + b;
}

std::uint8_t offset_byte(std::int8_t q) {
  return static_cast<std::uint8_t>(static_cast<int>(q) + kWeightOffset);
}

}  // namespace

KvLayout::KvLayout(const ModelConfig& c, int max_context, std::size_t group_size)
    : head_dim(static_cast<std::size_t>(c.head_dim)),
      row_group(ceil_div(head_dim, kernels::kMinGroupSize) * kernels::kMinGroupSize),
      k_quads(ceil_div(head_dim, kQuadK)),
      k_panels(ceil_div(static_cast<std::size_t>(max_context), kPanelColumns)),
      k_panel_bytes(kVectorBytes * (1 + k_quads)),
      v_group_size(group_size),
      v_panels(ceil_div(head_dim, kPanelColumns)),
      v_groups(ceil_div(static_cast<std::size_t>(max_context), group_size)),
      v_group_bytes(kVectorBytes + kPanelColumns * group_size),
      // The last group holds only the positions up to max_context, as
      // PackedWeights' short last group: the kernels read ceil(len / 4)
      // vectors of it, so a large G does not cost G positions of memory.
      v_panel_bytes(
          (v_groups - 1) * v_group_bytes + kVectorBytes +
          ceil_div(static_cast<std::size_t>(max_context) - (v_groups - 1) * group_size, kQuadK) *
              kVectorBytes) {}

std::uint64_t KvCache::bytes_for(const ModelConfig& c, int max_context, KvPrecision kv,
                                 std::size_t group_size) {
  const std::uint64_t heads =
      static_cast<std::uint64_t>(c.n_layer) * static_cast<std::uint64_t>(c.n_head_kv);
  if (kv == KvPrecision::kF16) {
    return mul_sat(mul_sat(heads, static_cast<std::uint64_t>(max_context)),
                   4ULL * static_cast<std::uint64_t>(c.head_dim));
  }
  const KvLayout l(c, max_context, group_size);
  const std::uint64_t k = mul_sat(l.k_panels, l.k_panel_bytes);
  const std::uint64_t v = mul_sat(l.v_panels, l.v_panel_bytes);
  const std::uint64_t scales = 4ULL * static_cast<std::uint64_t>(max_context);
  return mul_sat(heads, add_sat(add_sat(k, v), scales));
}

KvCache::KvCache(const ModelConfig& c, int max_context, KvPrecision kv, std::size_t group_size)
    : layout_(c, max_context, group_size),
      kv_(kv),
      n_head_kv_(static_cast<std::size_t>(c.n_head_kv)),
      max_context_(static_cast<std::size_t>(max_context)) {
  const std::size_t heads = static_cast<std::size_t>(c.n_layer) * n_head_kv_;
  if (kv == KvPrecision::kF16) {
    k16_.assign(heads * max_context_ * layout_.head_dim, 0);
    v16_.assign(heads * max_context_ * layout_.head_dim, 0);
    return;
  }
  k_ = kernels::AlignedBuffer(heads * layout_.k_panels * layout_.k_panel_bytes);
  v_ = kernels::AlignedBuffer(heads * layout_.v_panels * layout_.v_panel_bytes);
  v_scales_.assign(heads * max_context_, 0.0f);
  // Value "weights" carry scale 1 in every real column (0 in padding), so
  // the kernel's per-group rescale is the probabilities' scale alone.
  for (std::size_t p = 0; p < heads * layout_.v_panels; ++p) {
    const std::size_t columns =
        std::min(kPanelColumns, layout_.head_dim - p % layout_.v_panels * kPanelColumns);
    for (std::size_t g = 0; g < layout_.v_groups; ++g) {
      float* header = reinterpret_cast<float*>(v_.data() + p * layout_.v_panel_bytes +
                                               g * layout_.v_group_bytes);
      for (std::size_t j = 0; j < columns; ++j) header[j] = 1.0f;
    }
  }
}

std::size_t KvCache::index(int il, int head) const {
  return static_cast<std::size_t>(il) * n_head_kv_ + static_cast<std::size_t>(head);
}

const std::uint8_t* KvCache::k_panels(int il, int head) const {
  return k_.data() + index(il, head) * layout_.k_panels * layout_.k_panel_bytes;
}

const std::uint8_t* KvCache::v_panels(int il, int head) const {
  return v_.data() + index(il, head) * layout_.v_panels * layout_.v_panel_bytes;
}

const float* KvCache::v_scales(int il, int head) const {
  return v_scales_.data() + index(il, head) * max_context_;
}

const std::uint16_t* KvCache::k_f16(int il) const {
  return k16_.data() + static_cast<std::size_t>(il) * max_context_ * n_head_kv_ * layout_.head_dim;
}

const std::uint16_t* KvCache::v_f16(int il) const {
  return v16_.data() + static_cast<std::size_t>(il) * max_context_ * n_head_kv_ * layout_.head_dim;
}

void KvCache::store(int il, int pos, const float* k, const float* v,
                    const kernels::Int8Kernels& kernels) {
  if (kv_ == KvPrecision::kInt8) {
    store_int8(il, pos, k, v, kernels);
    return;
  }
  const std::size_t width = n_head_kv_ * layout_.head_dim;
  const std::size_t at =
      (static_cast<std::size_t>(il) * max_context_ + static_cast<std::size_t>(pos)) * width;
  for (std::size_t i = 0; i < width; ++i) {
    k16_[at + i] = f32_to_f16(k[i]);
    v16_[at + i] = f32_to_f16(v[i]);
  }
}

// Quantises the token's key and value rows (one group per KV head) and
// scatters them into their panels: key d of token pos sits in the token's
// panel at vector d / 4, lane pos % 16; value d at the panel of d, group
// pos / G, vector (pos % G) / 4, lane d % 16.
void KvCache::store_int8(int il, int pos, const float* k, const float* v,
                         const kernels::Int8Kernels& kernels) {
  const KvLayout& l = layout_;
  const std::size_t hd = l.head_dim;
  const std::size_t stride = ceil_div(hd, 64) * 64;
  std::vector<std::int8_t> q(2 * n_head_kv_ * stride);
  std::vector<float> scales(2 * n_head_kv_);
  std::vector<std::int32_t> sums(2 * n_head_kv_);
  kernels.quantize_rows(k, hd, n_head_kv_, hd, l.row_group, q.data(), stride, scales.data(),
                        sums.data());
  kernels.quantize_rows(v, hd, n_head_kv_, hd, l.row_group, q.data() + n_head_kv_ * stride, stride,
                        scales.data() + n_head_kv_, sums.data() + n_head_kv_);
  const auto p = static_cast<std::size_t>(pos);
  const std::size_t lane = p % kPanelColumns;
  const std::size_t v_at = (p / l.v_group_size) * l.v_group_bytes + kVectorBytes +
                           (p % l.v_group_size) / kQuadK * kVectorBytes + p % kQuadK;
  for (std::size_t h = 0; h < n_head_kv_; ++h) {
    const std::int8_t* kq = q.data() + h * stride;
    const std::int8_t* vq = q.data() + (n_head_kv_ + h) * stride;
    std::uint8_t* kp =
        k_.data() +
        (index(il, static_cast<int>(h)) * l.k_panels + p / kPanelColumns) * l.k_panel_bytes;
    std::memcpy(kp + lane * sizeof(float), &scales[h], sizeof(float));
    for (std::size_t d = 0; d < hd; ++d) {
      kp[kVectorBytes * (1 + d / kQuadK) + lane * kQuadK + d % kQuadK] = offset_byte(kq[d]);
    }
    std::uint8_t* vp = v_.data() + index(il, static_cast<int>(h)) * l.v_panels * l.v_panel_bytes;
    for (std::size_t d = 0; d < hd; ++d) {
      vp[(d / kPanelColumns) * l.v_panel_bytes + v_at + (d % kPanelColumns) * kQuadK] =
          offset_byte(vq[d]);
    }
    v_scales_[index(il, static_cast<int>(h)) * max_context_ + p] = scales[n_head_kv_ + h];
  }
}

}  // namespace lpu::int8
