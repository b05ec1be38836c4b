#pragma once
// Whole-file conversions between GGUF files.

#include <string>

#include "include/lpu/status.h"

namespace lpu::gguf {

/// Writes a copy of `src` to `dst` with every tensor dequantised to F32.
///
/// Follows llama.cpp's quantiser run with ftype ALL_F32 so that the two
/// outputs are byte-identical: metadata is copied in order without the
/// split.* keys, then `general.quantization_version` (2) and
/// `general.file_type` (0, ALL_F32) are removed and appended in that order;
/// tensors are ordered by block number (names without a "blk.N." prefix
/// first), then by name; the alignment of `src` is kept.
Status rewrite_as_f32(const std::string& src, const std::string& dst);

}  // namespace lpu::gguf
