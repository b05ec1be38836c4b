#pragma once
// Where a model's int8 error comes from, seen through the fp32 reference:
// analysis rounding (values rounded to int8 groups and straight back to
// fp32) of all weights, or of one layer's matrices and their inputs, and
// the KL that rounding alone causes.

#include <span>
#include <vector>

#include "include/lpu/model.h"
#include "include/lpu/progress.h"
#include "include/lpu/status.h"
#include "include/lpu/token.h"
#include "lib/reference/weights.h"

namespace lpu::quant {

/// Rounds each row of `m` to int8 in groups of `group` consecutive columns
/// (scale amax / 127, round half away from zero, as the scheme does) and
/// back to fp32.
void round_rows_to_int8(reference::MatrixRM& m, int group);

/// round_rows_to_int8 on every weight matrix of `w` and its output head
/// (untied from the embedding first, which stays as it is).
void round_weights_to_int8(reference::Weights& w, int group);

/// LayerError::layer of the output head (lm_head and its input).
inline constexpr int kOutputHead = -1;

struct LayerError {
  int layer = 0;  ///< or kOutputHead
  double kl_mean = 0.0;
  double kl_max = 0.0;
  double top1 = 0.0;
};

/// Every row's logits of `tokens` under fp32 `weights`, teacher-forced.
Result<std::vector<float>> reference_logits(const ModelConfig& config, const reference::Weights& weights,
                                            std::span<const TokenId> tokens);

/// KL(`reference` || `weights` with every weight matrix, the output head
/// and the activations they read rounded to int8 groups of `group`),
/// averaged over the rows of `tokens`: the int8 pass's error without its
/// KV cache, seen through the fp32 reference. `reference` is
/// reference_logits of `weights`, or of any model equal to it in real
/// arithmetic (the same one before a transform). `weights` are left as
/// they were.
Result<double> simulated_int8_kl(const ModelConfig& config, const reference::Weights& weights,
                                 std::span<const TokenId> tokens, int group, std::span<const float> reference);

/// Per layer l: KL(reference || reference with layer l's weight matrices
/// and the activations they read rounded to int8 groups of `group`),
/// teacher-forced on `tokens`. `weights` are those the int8 pass imports
/// (smoothed, or not); each layer is rounded in turn and restored. The KV
/// cache stays fp32 and MoE experts' down inputs are not rounded. A last
/// entry, kOutputHead, rounds the output head and its input alone.
/// `progress` is told ("per-layer error", layers done, layers).
Result<std::vector<LayerError>> per_layer_error(const ModelConfig& config, reference::Weights& weights,
                                                std::span<const TokenId> tokens, int group,
                                                const ProgressCallback& progress = {});

}  // namespace lpu::quant
