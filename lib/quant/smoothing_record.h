#pragma once
// Smoothing factors as a Program records them (program::Smoothing: log2 of
// each factor, per site and layer) and as an importer applies them: per
// GGUF tensor, the power-of-two multipliers of its columns and rows. The
// rules are those of apply_smoothing (smoothing.h), stated per tensor so a
// backend can fold the factors into each tensor as it imports it.

#include <string>
#include <string_view>
#include <vector>

#include "include/lpu/model.h"
#include "include/lpu/status.h"
#include "lib/program/program.h"
#include "lib/quant/smoothing.h"

namespace lpu::quant {

/// The record of `factors` (each a power of two in 2^-16 .. 2^16).
program::Smoothing smoothing_record(const ChannelValues& factors, float alpha,
                                    std::string calibration_hash, std::uint32_t calibration_tokens);

/// "blk.<layer>.<rest>": the layer, and `rest` set to what follows; -1
/// for a name outside the layers.
int block_of(std::string_view name, std::string_view& rest);

/// The factors of `record` for a model of `config`. An error names
/// `source`, the site and what was expected when a site is unknown, or its
/// layers or channels differ from the model's.
Result<ChannelValues> smoothing_factors_of(const program::Smoothing& record, const ModelConfig& config,
                                           std::string_view source);

/// What smoothing does to one tensor: the value at (row r, column j) of
/// each expert is multiplied by columns[j] * rows[r] (empty: by 1). Both
/// are powers of two, so the product is exact in floating point.
struct TensorScaling {
  std::vector<float> columns;
  std::vector<float> rows;

  bool empty() const { return columns.empty() && rows.empty(); }
  /// Multiplies `row` (row `r` of one expert, `columns.size()` values when set).
  void apply(std::size_t r, float* row, std::size_t n) const;
};

/// The scaling of the GGUF tensor `name` ("blk.3.attn_v.weight"); empty for
/// the tensors smoothing leaves alone. token_embd.weight's scaling is that
/// of the output head it is when tied: importers apply it where they
/// import the head's int8 rows, never to the embedding lookup's rows.
TensorScaling tensor_scaling(const ModelConfig& config, const ChannelValues& factors, std::string_view name);

}  // namespace lpu::quant
