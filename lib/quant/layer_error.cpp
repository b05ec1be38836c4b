#include "lib/quant/layer_error.h"

#include <algorithm>
#include <cmath>
#include <new>

#include "lib/metrics/metrics.h"
#include "lib/reference/forward.h"

namespace lpu::quant {
namespace {

using reference::MatrixRM;

// Rounds the inputs of one layer's matrices (every layer's, for kAll) as
// they pass.
class LayerRounding final : public reference::ActivationObserver {
 public:
  static constexpr int kAll = -2;
  LayerRounding(int layer, int group) : layer_(layer), group_(group) {}
  void observe(int layer, reference::ActivationSite, MatrixRM& rows) override {
    if (layer == layer_ || layer_ == kAll) round_rows_to_int8(rows, group_);
  }

 private:
  int layer_;
  int group_;
};

// Every row's logits of `tokens` teacher-forced from position 0; with
// `head_group`, the output head and its input rounded to int8 groups.
std::vector<float> logits_of(const ModelConfig& c, const reference::Weights& w, std::span<const TokenId> tokens,
                             reference::ActivationObserver* observer, int head_group = 0) {
  reference::Rope rope(c, w.rope_freqs);
  reference::KvCache cache = reference::zero_kv_cache(c, static_cast<Eigen::Index>(tokens.size()));
  MatrixRM hidden = reference::forward_hidden(c, w, rope, cache, tokens, 0, observer);
  if (head_group == 0) {
    const MatrixRM logits = hidden * w.lm_head().transpose();
    return std::vector<float>(logits.data(), logits.data() + logits.size());
  }
  MatrixRM head = w.lm_head();
  round_rows_to_int8(head, head_group);
  round_rows_to_int8(hidden, head_group);
  const MatrixRM logits = hidden * head.transpose();
  return std::vector<float>(logits.data(), logits.data() + logits.size());
}

void round_layer(reference::LayerWeights& l, int group) {
  // The MoE router runs in fp32 (program::Encoding::kF32) and stays.
  for (MatrixRM* m : {&l.wq, &l.wk, &l.wv, &l.wo, &l.ffn.gate, &l.ffn.up, &l.ffn.down}) {
    if (m->size() != 0) round_rows_to_int8(*m, group);
  }
  for (reference::FfnWeights& e : l.experts) {
    for (MatrixRM* m : {&e.gate, &e.up, &e.down}) round_rows_to_int8(*m, group);
  }
}

}  // namespace

void round_rows_to_int8(MatrixRM& m, int group) {
  for (Eigen::Index r = 0; r < m.rows(); ++r) {
    for (Eigen::Index k0 = 0; k0 < m.cols(); k0 += group) {
      const Eigen::Index n = std::min<Eigen::Index>(group, m.cols() - k0);
      auto seg = m.row(r).segment(k0, n);
      const float scale = seg.cwiseAbs().maxCoeff() / 127.0f;
      if (!(scale > 0.0f)) continue;
      for (Eigen::Index k = 0; k < n; ++k) seg(k) = std::round(seg(k) / scale) * scale;
    }
  }
}

void round_weights_to_int8(reference::Weights& w, int group) {
  for (reference::LayerWeights& l : w.layers) round_layer(l, group);
  if (w.output.size() == 0) w.output = w.token_embd;
  round_rows_to_int8(w.output, group);
}

Result<std::vector<float>> reference_logits(const ModelConfig& c, const reference::Weights& w,
                                            std::span<const TokenId> tokens) {
  try {
    return logits_of(c, w, tokens, nullptr);
  } catch (const std::bad_alloc&) {
    return resource_exhausted("fp32 reference logits: out of memory");
  }
}

Result<double> simulated_int8_kl(const ModelConfig& c, const reference::Weights& w,
                                 std::span<const TokenId> tokens, int group, std::span<const float> ref) {
  if (tokens.empty()) return invalid_argument("simulated int8 KL: no tokens");
  try {
    reference::Weights rounded = w;
    for (reference::LayerWeights& l : rounded.layers) round_layer(l, group);
    // The observer rounds the head's input too (it is seen after the last
    // layer); the head's weights are rounded here.
    if (rounded.output.size() == 0) rounded.output = rounded.token_embd;
    round_rows_to_int8(rounded.output, group);
    LayerRounding all(LayerRounding::kAll, group);
    const std::vector<float> test = logits_of(c, rounded, tokens, &all);
    LPU_ASSIGN_OR_RETURN(metrics::Agreement a, metrics::agreement(ref, test, c.n_vocab));
    return a.kl_mean;
  } catch (const std::bad_alloc&) {
    return resource_exhausted("simulated int8 KL: out of memory for the fp32 reference's logits");
  }
}

Result<std::vector<LayerError>> per_layer_error(const ModelConfig& c, reference::Weights& w,
                                                std::span<const TokenId> tokens, int group,
                                                const ProgressCallback& progress) {
  if (tokens.empty()) return invalid_argument("per-layer error: no tokens");
  try {
    const std::vector<float> ref = logits_of(c, w, tokens, nullptr);
    std::vector<LayerError> out;
    for (int il = 0; il < c.n_layer; ++il) {
      if (progress) progress({"per-layer error", static_cast<std::size_t>(il), static_cast<std::size_t>(c.n_layer)});
      reference::LayerWeights& layer = w.layers[static_cast<std::size_t>(il)];
      const reference::LayerWeights kept = layer;
      round_layer(layer, group);
      LayerRounding rounding(il, group);
      const std::vector<float> test = logits_of(c, w, tokens, &rounding);
      layer = kept;
      LPU_ASSIGN_OR_RETURN(metrics::Agreement a, metrics::agreement(ref, test, c.n_vocab));
      out.push_back({il, a.kl_mean, a.kl_max, a.top1});
    }
    const std::vector<float> test = logits_of(c, w, tokens, nullptr, group);
    LPU_ASSIGN_OR_RETURN(metrics::Agreement a, metrics::agreement(ref, test, c.n_vocab));
    out.push_back({kOutputHead, a.kl_mean, a.kl_max, a.top1});
    if (progress) progress({"per-layer error", static_cast<std::size_t>(c.n_layer), static_cast<std::size_t>(c.n_layer)});
    return out;
  } catch (const std::bad_alloc&) {
    return resource_exhausted("per-layer error: out of memory for the fp32 reference's logits");
  }
}

}  // namespace lpu::quant
