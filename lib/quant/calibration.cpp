#include "lib/quant/calibration.h"

#include <algorithm>

#include "include/lpu/tokenizer.h"
#include "lib/core/sha256.h"
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

Result<program::Smoothing> calibrate_program_smoothing(const Model& model, std::span<const TokenId> tokens,
                                                       float alpha) {
  LPU_ASSIGN_OR_RETURN(ChannelValues factors, calibrate_smoothing(model, tokens, alpha));
  const program::Smoothing spec = smoothing_spec(tokens, alpha);
  return smoothing_record(factors, alpha, spec.calibration_hash, spec.calibration_tokens);
}

}  // namespace lpu::quant
