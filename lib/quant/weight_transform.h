#pragma once
// What a backend does to each GGUF tensor's fp32 values as it imports
// them, for a Program's smoothing and rotation (program::Smoothing,
// program::Rotation): the same results, bit for bit, as apply_smoothing
// then apply_rotation (rotation.h) on the whole fp32 model, stated per
// tensor so the import can work one tensor at a time.

#include <cstddef>
#include <optional>
#include <span>
#include <string_view>

#include "include/lpu/model.h"
#include "include/lpu/status.h"
#include "lib/gguf/file.h"
#include "lib/quant/hadamard.h"
#include "lib/quant/smoothing.h"
#include "lib/quant/smoothing_record.h"

namespace lpu::quant {

/// The transforms of one model: smoothing factors, a rotation, or both.
struct ModelTransform {
  const ModelConfig* config = nullptr;
  std::optional<ChannelValues> smoothing;
  std::optional<HadamardRotation> rotation;

  bool empty() const { return !smoothing && !rotation; }
};

/// One tensor's transform, applied to one expert's rows x k values.
struct TensorTransform {
  /// Multipliers (powers of two, and with a rotation the folded norm).
  TensorScaling scaling;
  /// x R on every row (matrices reading the residual stream, the head, the
  /// embedding), or R^T W on the columns (matrices writing it).
  enum class Rotate { kNone, kRows, kColumns } rotate = Rotate::kNone;
  /// A norm folded into the matrices that read it: every value becomes 1.
  bool ones = false;
  const HadamardRotation* rotation = nullptr;

  bool empty() const { return scaling.empty() && rotate == Rotate::kNone && !ones; }
  /// Whether apply() needs a whole expert at once (a rotation of columns);
  /// otherwise apply_row() transforms each row alone.
  bool needs_whole_matrix() const { return rotate == Rotate::kColumns; }
  /// Transforms one expert's values in place (rows x k, row-major).
  void apply(std::span<float> values, std::size_t rows, std::size_t k) const;
  /// Transforms row `r` of an expert in place (not for needs_whole_matrix()).
  void apply_row(std::size_t r, std::span<float> row) const;
};

/// The transform of tensor `name` of `file` as its int8 or fp32 import
/// sees it. With a rotation it reads the norm the tensor folds in from
/// `file`. Errors name the file and the tensor.
Result<TensorTransform> tensor_transform(const gguf::File& file, const ModelTransform& t, std::string_view name);

/// The transform of token_embd.weight's rows for the embedding lookup:
/// the rotation alone (smoothing never touches the lookup).
TensorTransform embedding_transform(const ModelTransform& t);

/// How a rotated embedding table is stored (its rows no longer match the
/// file's blocks): Q8_0 when n_embd is a multiple of 32, else F32.
gguf::TensorType rotated_embedding_type(std::size_t n_embd);

}  // namespace lpu::quant
