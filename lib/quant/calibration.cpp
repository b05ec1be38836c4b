#include "lib/quant/calibration.h"

#include <algorithm>

#include "include/lpu/tokenizer.h"
#include "lib/core/sha256.h"
#include "lib/quant/hadamard.h"
#include "lib/quant/layer_error.h"
#include "lib/reference/weights.h"
#include "lib/quant/rotation.h"
#include "lib/quant/smoothing.h"
#include "lib/quant/smoothing_record.h"

namespace lpu::quant {

std::vector<TokenId> calibration_tokens(const Model& model) {
  const ModelConfig& c = model.config();
  const std::size_t limit = std::min<std::size_t>(kMaxCalibrationTokens,
                                                  static_cast<std::size_t>(std::max(c.n_ctx_train, 1)));
  std::vector<TokenId> ids;
  auto tokenizer = model.tokenizer();
  if (tokenizer.ok()) {
    auto encoded = tokenizer->encode(calibration_text(), {.add_bos = tokenizer->default_add_bos()});
    if (encoded.ok()) ids = std::move(*encoded);
  }
  const bool in_vocab = std::all_of(ids.begin(), ids.end(), [&](TokenId t) { return t >= 0 && t < c.n_vocab; });
  if (ids.empty() || !in_vocab) {
    ids.resize(limit);
    for (std::size_t i = 0; i < limit; ++i) {
      ids[i] = static_cast<TokenId>((i * 7919) % static_cast<std::size_t>(c.n_vocab));
    }
  }
  if (ids.size() > limit) ids.resize(limit);
  return ids;
}

program::Rotation default_rotation(const ModelConfig& c) {
  if (!HadamardRotation::supports(static_cast<std::size_t>(c.n_embd))) return {};
  return {"hadamard", 1};
}

program::Smoothing smoothing_spec(std::span<const TokenId> tokens, float alpha) {
  std::vector<std::uint8_t> bytes;
  bytes.reserve(tokens.size() * 4);
  for (TokenId t : tokens) {
    const auto u = static_cast<std::uint32_t>(t);
    for (int i = 0; i < 4; ++i) bytes.push_back(static_cast<std::uint8_t>(u >> (8 * i)));
  }
  Sha256 h;
  h.update(std::span<const std::uint8_t>(bytes));
  program::Smoothing s;
  s.method = "smoothquant";
  s.alpha = alpha;
  s.calibration_hash = h.hex_digest();
  s.calibration_tokens = static_cast<std::uint32_t>(tokens.size());
  return s;
}

Result<CalibratedTransform> calibrate_transform(const Model& model, std::span<const TokenId> tokens, int group,
                                                bool smoothing, bool rotation) {
  CalibratedTransform out;
  const ModelConfig& c = model.config();
  const program::Rotation r = rotation ? default_rotation(c) : program::Rotation{};
  if (!smoothing && !r.enabled()) return out;
  LPU_ASSIGN_OR_RETURN(reference::Weights w, load_fp32_weights(model));
  if (smoothing) {
    LPU_ASSIGN_OR_RETURN(ChannelValues factors, calibrate_smoothing_of(model, w, tokens));
    const program::Smoothing spec = smoothing_spec(tokens);
    out.smoothing = smoothing_record(factors, kDefaultSmoothingAlpha, spec.calibration_hash, spec.calibration_tokens);
    apply_smoothing(c, factors, w);
  }
  if (!r.enabled()) return out;
  const std::span<const TokenId> probe = tokens.first(std::min(tokens.size(), kChoiceTokens));
  // One unrounded pass serves both: the rotation is exact in real arithmetic.
  LPU_ASSIGN_OR_RETURN(const std::vector<float> ref, reference_logits(c, w, probe));
  LPU_ASSIGN_OR_RETURN(out.kl_without_rotation, simulated_int8_kl(c, w, probe, group, ref));
  LPU_ASSIGN_OR_RETURN(HadamardRotation hadamard, HadamardRotation::create(static_cast<std::size_t>(c.n_embd), r.seed));
  apply_rotation(c, hadamard, w);
  LPU_ASSIGN_OR_RETURN(out.kl_with_rotation, simulated_int8_kl(c, w, probe, group, ref));
  // A clear win only: near ties could fall either way on another
  // machine's fp32 rounding, and the records must not.
  if (out.kl_with_rotation < kRotationMargin * out.kl_without_rotation) out.rotation = r;
  return out;
}

Status apply_transforms(const ModelConfig& c, const program::Smoothing& smoothing, const program::Rotation& rotation,
                        reference::Weights& w) {
  if (smoothing.enabled()) {
    LPU_ASSIGN_OR_RETURN(ChannelValues factors, smoothing_factors_of(smoothing, c, "smoothing"));
    apply_smoothing(c, factors, w);
  }
  if (rotation.enabled()) {
    LPU_ASSIGN_OR_RETURN(HadamardRotation r, HadamardRotation::create(static_cast<std::size_t>(c.n_embd), rotation.seed));
    apply_rotation(c, r, w);
  }
  return {};
}

}  // namespace lpu::quant
