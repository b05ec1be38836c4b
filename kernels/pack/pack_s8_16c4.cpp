#include <algorithm>
#include <cstring>

#include "kernels/dispatch/check.h"
#include "kernels/pack/packed_weights.h"

namespace lpu::kernels {
namespace {

// Writes group g of panel p: the scales header, then the vectors.
void pack_group(const QuantizedRows& w, std::size_t p, std::size_t g, std::uint8_t* block) {
  const std::size_t k0 = g * w.group_size();
  const std::size_t len = std::min(w.group_size(), w.k() - k0);
  float scales[kPanelColumns] = {};
  for (std::size_t j = 0; j < kPanelColumns; ++j) {
    const std::size_t n = p * kPanelColumns + j;
    if (n >= w.rows()) break;
    scales[j] = w.scales(n)[g];
    const std::int8_t* src = w.row(n) + k0;
    for (std::size_t i = 0; i < len; ++i) {
      const std::size_t v = i / kQuadK;
      const std::size_t t = i % kQuadK;
      block[kVectorBytes + v * kVectorBytes + j * kQuadK + t] =
          static_cast<std::uint8_t>(src[i] + kWeightOffset);
    }
  }
  std::memcpy(block, scales, sizeof(scales));
}

}  // namespace

PackedWeights pack_s8_16c4(const QuantizedRows& w) {
  LPU_KERNEL_CHECK(w.rows() >= 1 && w.k() >= 1, "weights need at least one row and column");
  PackedWeights out;
  out.n_ = w.rows();
  out.k_ = w.k();
  out.group_size_ = w.group_size();
  out.groups_ = w.groups();
  out.panels_ = (w.rows() + kPanelColumns - 1) / kPanelColumns;
  out.group_bytes_ = kVectorBytes + (w.group_size() / kQuadK) * kVectorBytes;
  const std::size_t last_len = w.k() - (w.groups() - 1) * w.group_size();
  out.last_quads_ = (last_len + kQuadK - 1) / kQuadK;
  out.panel_bytes_ =
      (out.groups_ - 1) * out.group_bytes_ + kVectorBytes + out.last_quads_ * kVectorBytes;
  out.data_ = AlignedBuffer(out.panels_ * out.panel_bytes_);
  for (std::size_t p = 0; p < out.panels_; ++p) {
    for (std::size_t g = 0; g < out.groups_; ++g) {
      pack_group(w, p, g, out.data_.data() + p * out.panel_bytes_ + g * out.group_bytes_);
    }
  }
  return out;
}

QuantizedRows PackedWeights::unpack() const {
  QuantizedRows w(n_, k_, group_size_);
  for (std::size_t p = 0; p < panels_; ++p) {
    for (std::size_t g = 0; g < groups_; ++g) {
      const std::uint8_t* block = group_block(p, g);
      const std::size_t k0 = g * group_size_;
      const std::size_t len = std::min(group_size_, k_ - k0);
      for (std::size_t j = 0; j < kPanelColumns && p * kPanelColumns + j < n_; ++j) {
        const std::size_t n = p * kPanelColumns + j;
        std::memcpy(&w.scales(n)[g], block + j * sizeof(float), sizeof(float));
        for (std::size_t i = 0; i < len; ++i) {
          const std::uint8_t b =
              block[kVectorBytes + (i / kQuadK) * kVectorBytes + j * kQuadK + i % kQuadK];
          w.row(n)[k0 + i] = static_cast<std::int8_t>(static_cast<int>(b) - kWeightOffset);
        }
      }
    }
  }
  w.update_sums();
  return w;
}

}  // namespace lpu::kernels
