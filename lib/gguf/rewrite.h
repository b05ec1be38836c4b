#pragma once
// Whole-file conversions between GGUF files.

#include <cstdint>
#include <functional>
#include <span>
#include <string>

#include "include/lpu/status.h"
#include "lib/gguf/file.h"

namespace lpu::gguf {

/// Changes one dequantised row of a tensor (row `row` of `tensor`) in place.
using RowTransform = std::function<void(const TensorInfo& tensor, std::uint64_t row, std::span<float> values)>;

/// Writes a copy of `src` to `dst` with every tensor dequantised to F32.
///
/// Follows llama.cpp's quantiser run with ftype ALL_F32 so that the two
/// outputs are byte-identical: metadata is copied in order without the
/// split.* keys, then `general.quantization_version` (2) and
/// `general.file_type` (0, ALL_F32) are removed and appended in that order;
/// tensors are ordered by block number (names without a "blk.N." prefix
/// first), then by name; the alignment of `src` is kept.
/// `transform`, when set, changes each row after dequantisation.
Status rewrite_as_f32(const std::string& src, const std::string& dst, const RowTransform& transform = {});

}  // namespace lpu::gguf
