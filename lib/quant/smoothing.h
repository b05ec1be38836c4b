#pragma once
// Activation smoothing: per input channel j of a layer's matrices, a factor
// s_j that divides the activation and multiplies the weight column, so that
// y = W x is unchanged in real arithmetic while the outlier channels that
// set a whole group's int8 scale shrink. Each factor is folded into what
// produces the activation:
//   attention input  rms_norm * attn_norm / s   ->  Wq, Wk, Wv columns * s
//   FFN input        rms_norm * ffn_norm / s    ->  gate, up (router, experts) columns * s
//   down input       up rows / s                ->  Wdown columns * s      (dense layers)
//   attention output Wv rows / s (per KV head)  ->  Wo columns * s (every query head of the group)
//   head input       rms_norm * output_norm / s ->  output head columns * s (a tied head is
//                                                   untied: the embedding lookup keeps its rows)
// s_j = 2^round(log2(max|X_j|^alpha / max|W_j|^(1 - alpha))) (SmoothQuant,
// alpha 1/2 by default, rounded to a power of two): multiplying by a power of two is exact in
// floating point, so the folded fp32 model computes the same values, and a
// statistic must move by a factor of sqrt(2) to change a factor.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "include/lpu/model.h"
#include "include/lpu/status.h"
#include "include/lpu/token.h"

namespace lpu::reference {
struct Weights;  // lib/reference/weights.h (fp32 Eigen matrices)
}

namespace lpu::quant {

/// Per layer and input channel, a number for each site where a layer's
/// matrices read their input (an empty layer list: the site is not used).
struct ChannelValues {
  std::vector<std::vector<float>> attention_input;   // n_embd
  std::vector<std::vector<float>> attention_output;  // n_head * head_dim
  std::vector<std::vector<float>> ffn_input;         // n_embd
  std::vector<std::vector<float>> down_input;        // n_ff (dense layers)
  std::vector<std::vector<float>> output_input;      // one list of n_embd: the output head's input
};

/// The largest |activation| of every channel over `tokens`, from the fp32
/// reference forward pass on `weights`.
Result<ChannelValues> activation_maxima(const Model& model, const reference::Weights& weights,
                                        std::span<const TokenId> tokens);

/// The smoothing factors (powers of two) for these activation maxima and
/// `weights`. The attention output's factors are per KV channel, repeated
/// for every query head of its group.
ChannelValues smoothing_factors(const ModelConfig& config, const reference::Weights& weights,
                                const ChannelValues& activation_max, double alpha = 0.5);

/// The factors of `model` calibrated on `tokens` (both steps above).
Result<ChannelValues> calibrate_smoothing(const Model& model, std::span<const TokenId> tokens, double alpha = 0.5);

/// The factors of `model` calibrated on `tokens`, given its fp32 weights
/// (already loaded).
Result<ChannelValues> calibrate_smoothing_of(const Model& model, const reference::Weights& weights,
                                             std::span<const TokenId> tokens, double alpha = 0.5);

/// Loads `model`'s fp32 weights.
Result<reference::Weights> load_fp32_weights(const Model& model);

/// Folds `factors` into fp32 weights.
void apply_smoothing(const ModelConfig& config, const ChannelValues& factors, reference::Weights& weights);

/// Writes `model` to `path` as an F32 GGUF with `factors` folded in.
Status write_smoothed_model(const Model& model, const ChannelValues& factors, const std::string& path);

}  // namespace lpu::quant

namespace lpu::quant {

/// Writes fp32 `weights` of `model` to `path` as an F32 GGUF (metadata of
/// the model's file; an untied output head when `weights` has one).
Status write_weights(const Model& model, const reference::Weights& weights, const std::string& path);

}  // namespace lpu::quant
