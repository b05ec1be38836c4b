#pragma once
// Calibration of the smoothing a Program records: the built-in text, the
// token ids it gives a model, and the factors the fp32 reference derives
// from them (docs/quantization.md, "Smoothing").

#include <string_view>
#include <vector>

#include "include/lpu/model.h"
#include "include/lpu/status.h"
#include "include/lpu/token.h"
#include "lib/program/program.h"

namespace lpu::reference {
struct Weights;
}

namespace lpu::quant {

/// The smoothing strength every default compile uses.
inline constexpr float kDefaultSmoothingAlpha = 0.5f;
/// At most this many calibration tokens (and at most the model's context).
inline constexpr std::size_t kMaxCalibrationTokens = 512;

/// The committed calibration text (lib/quant/calibration_text.cpp).
std::string_view calibration_text();

/// The calibration token ids of `model`: calibration_text() in its
/// tokenizer (with its BOS rule), cut to kMaxCalibrationTokens and the
/// context; a model without a vocabulary gets the fixed sequence
/// 7919 i mod n_vocab instead.
std::vector<TokenId> calibration_tokens(const Model& model);

/// The rotation every default compile uses: Hadamard, seed 1, when
/// HadamardRotation supports n_embd; none otherwise.
program::Rotation default_rotation(const ModelConfig& config);

/// The smoothing's identity without its factors (method, alpha, the hash
/// and count of `tokens`): enough to look a Program up in the cache.
program::Smoothing smoothing_spec(std::span<const TokenId> tokens, float alpha = kDefaultSmoothingAlpha);

/// The tokens of the rotation choice's simulated int8 passes (the first
/// ones of the calibration).
inline constexpr std::size_t kChoiceTokens = 256;
/// The rotation is kept when it cuts the simulated KL below this fraction.
inline constexpr double kRotationMargin = 0.9;

/// The transforms a compile folds into `model`'s weights.
struct CalibratedTransform {
  program::Smoothing smoothing;  ///< none unless asked for
  program::Rotation rotation;    ///< none unless asked for, supported and chosen
  /// The simulated int8 KL (layer_error.h) at G with smoothing alone and
  /// with the rotation too, when the choice was made; 0 otherwise.
  double kl_without_rotation = 0.0;
  double kl_with_rotation = 0.0;
};

/// Calibrates smoothing (when `smoothing`) on `tokens` (the same model and
/// tokens give the same factors on any machine and thread count: each is a
/// power of two of per-channel maxima), then keeps
/// default_rotation (when `rotation` and n_embd allows one) only if it
/// lowers the simulated int8 KL at `group` over the first kChoiceTokens
/// tokens by at least 1 - kRotationMargin: a rotation folds the norms into the matrices that read them,
/// which helps when outliers live in the residual stream and hurts when
/// they live in the norms' weights.
Result<CalibratedTransform> calibrate_transform(const Model& model, std::span<const TokenId> tokens, int group,
                                                bool smoothing, bool rotation);

/// Folds the recorded transforms into fp32 `weights` of a model of
/// `config` as the import does (smoothing, then the rotation).
Status apply_transforms(const ModelConfig& config, const program::Smoothing& smoothing,
                        const program::Rotation& rotation, reference::Weights& weights);

}  // namespace lpu::quant
