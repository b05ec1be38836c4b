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

/// The smoothing's identity without its factors (method, alpha, the hash
/// and count of `tokens`): enough to look a Program up in the cache.
program::Smoothing smoothing_spec(std::span<const TokenId> tokens, float alpha = kDefaultSmoothingAlpha);

/// `spec` with the factors calibrated on `tokens` by the fp32 reference on
/// `model`'s weights. The same model and tokens give the same factors on
/// any machine and thread count (each is a power of two from per-channel
/// maxima, far from a rounding boundary but for measure-zero ties).
Result<program::Smoothing> calibrate_program_smoothing(const Model& model, std::span<const TokenId> tokens,
                                                       float alpha = kDefaultSmoothingAlpha);

}  // namespace lpu::quant
