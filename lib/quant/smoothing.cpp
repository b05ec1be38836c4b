#include "lib/quant/smoothing.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <new>

#include "lib/gguf/writer.h"

#include "lib/model/model_access.h"
#include "lib/reference/forward.h"
#include "lib/reference/weights.h"

namespace lpu::quant {
namespace {

using reference::MatrixRM;

// Factors stay within 2^-kMaxShift .. 2^kMaxShift.
constexpr int kMaxShift = 16;

std::vector<std::vector<float>> zeros(int layers, int channels) {
  return std::vector<std::vector<float>>(static_cast<std::size_t>(layers),
                                         std::vector<float>(static_cast<std::size_t>(channels), 0.0f));
}

// Keeps, per channel, the largest |value| seen.
class MaxObserver final : public reference::ActivationObserver {
 public:
  explicit MaxObserver(ChannelValues& out) : out_(out) {}
  void observe(int layer, reference::ActivationSite site, MatrixRM& rows) override {
    // The head's input is seen once, after the last layer.
    const std::size_t l = site == reference::ActivationSite::kOutputInput ? 0 : static_cast<std::size_t>(layer);
    std::vector<float>& m = site_values(site)[l];
    const Eigen::RowVectorXf col = rows.cwiseAbs().colwise().maxCoeff();
    for (Eigen::Index j = 0; j < col.size(); ++j) m[static_cast<std::size_t>(j)] = std::max(m[static_cast<std::size_t>(j)], col(j));
  }

 private:
  std::vector<std::vector<float>>& site_values(reference::ActivationSite s) {
    switch (s) {
      case reference::ActivationSite::kAttentionInput: return out_.attention_input;
      case reference::ActivationSite::kAttentionOutput: return out_.attention_output;
      case reference::ActivationSite::kFfnInput: return out_.ffn_input;
      case reference::ActivationSite::kDownInput: return out_.down_input;
      case reference::ActivationSite::kOutputInput: return out_.output_input;
    }
    return out_.attention_input;
  }
  ChannelValues& out_;
};

// The largest |w| of each column (input channel) of `m`, merged into `into`.
void column_max(const MatrixRM& m, std::vector<float>& into) {
  if (m.size() == 0) return;
  const Eigen::RowVectorXf col = m.cwiseAbs().colwise().maxCoeff();
  for (Eigen::Index j = 0; j < col.size(); ++j) into[static_cast<std::size_t>(j)] = std::max(into[static_cast<std::size_t>(j)], col(j));
}

// x^alpha / w^(1 - alpha) rounded to a power of two; 1 where either side
// is zero.
float factor(float x, float w, double alpha) {
  if (!(x > 0.0f) || !(w > 0.0f) || !std::isfinite(x) || !std::isfinite(w)) return 1.0f;
  const double shift = std::round(alpha * std::log2(static_cast<double>(x)) - (1.0 - alpha) * std::log2(static_cast<double>(w)));
  return std::ldexp(1.0f, static_cast<int>(std::clamp(shift, -double{kMaxShift}, double{kMaxShift})));
}

std::vector<float> factors_of(const std::vector<float>& x, const std::vector<float>& w, double alpha) {
  std::vector<float> s(x.size());
  for (std::size_t j = 0; j < x.size(); ++j) s[j] = factor(x[j], w[j], alpha);
  return s;
}

void scale_columns(MatrixRM& m, const std::vector<float>& s) {
  for (Eigen::Index j = 0; j < m.cols(); ++j) m.col(j) *= s[static_cast<std::size_t>(j)];
}

void divide_rows(MatrixRM& m, const std::vector<float>& s) {
  for (Eigen::Index i = 0; i < m.rows(); ++i) m.row(i) /= s[static_cast<std::size_t>(i)];
}

// The attention output's factor for KV channel `c` (head g, dim d): the
// factor of its group's first query head.
float kv_factor(const ModelConfig& c, const std::vector<float>& s, std::size_t kv_channel) {
  const std::size_t hd = static_cast<std::size_t>(c.head_dim);
  const std::size_t group = static_cast<std::size_t>(c.n_head / c.n_head_kv);
  return s[(kv_channel / hd) * group * hd + kv_channel % hd];
}

}  // namespace

Result<ChannelValues> activation_maxima(const Model& model, const reference::Weights& w,
                                        std::span<const TokenId> tokens) {
  const ModelConfig& c = model.config();
  if (tokens.empty()) return invalid_argument(model.path() + ": calibration: no tokens");
  for (TokenId t : tokens) {
    if (t < 0 || t >= c.n_vocab) return out_of_range(model.path() + ": calibration: token id " + std::to_string(t) + " outside the vocabulary");
  }
  try {
    reference::Rope rope(c, w.rope_freqs);
    reference::KvCache cache = reference::zero_kv_cache(c, static_cast<Eigen::Index>(tokens.size()));
    ChannelValues out;
    out.attention_input = zeros(c.n_layer, c.n_embd);
    out.attention_output = zeros(c.n_layer, c.n_head * c.head_dim);
    out.ffn_input = zeros(c.n_layer, c.n_embd);
    if (!c.is_moe()) out.down_input = zeros(c.n_layer, c.n_ff);
    out.output_input = zeros(1, c.n_embd);
    MaxObserver observer(out);
    (void)reference::forward_hidden(c, w, rope, cache, tokens, 0, &observer);
    return out;
  } catch (const std::bad_alloc&) {
    return resource_exhausted(model.path() + ": calibration: out of memory for the fp32 reference");
  }
}

Result<reference::Weights> load_fp32_weights(const Model& model) {
  try {
    return reference::load_weights(model::model_file(model), model.config());
  } catch (const std::bad_alloc&) {
    return resource_exhausted(model.path() + ": out of memory for the fp32 weights");
  }
}

Result<ChannelValues> calibrate_smoothing_of(const Model& model, const reference::Weights& w,
                                             std::span<const TokenId> tokens, double alpha) {
  LPU_ASSIGN_OR_RETURN(ChannelValues x, activation_maxima(model, w, tokens));
  return smoothing_factors(model.config(), w, x, alpha);
}

Result<ChannelValues> calibrate_smoothing(const Model& model, std::span<const TokenId> tokens, double alpha) {
  try {
    LPU_ASSIGN_OR_RETURN(reference::Weights w, reference::load_weights(model::model_file(model), model.config()));
    LPU_ASSIGN_OR_RETURN(ChannelValues x, activation_maxima(model, w, tokens));
    return smoothing_factors(model.config(), w, x, alpha);
  } catch (const std::bad_alloc&) {
    return resource_exhausted(model.path() + ": calibration: out of memory for the fp32 weights");
  }
}

ChannelValues smoothing_factors(const ModelConfig& c, const reference::Weights& w, const ChannelValues& x, double alpha) {
  ChannelValues s;
  for (int il = 0; il < c.n_layer; ++il) {
    const auto l = static_cast<std::size_t>(il);
    const reference::LayerWeights& lw = w.layers[l];
    std::vector<float> wa(static_cast<std::size_t>(c.n_embd), 0.0f);
    for (const MatrixRM* m : {&lw.wq, &lw.wk, &lw.wv}) column_max(*m, wa);
    s.attention_input.push_back(factors_of(x.attention_input[l], wa, alpha));

    std::vector<float> wf(static_cast<std::size_t>(c.n_embd), 0.0f);
    if (c.is_moe()) {
      column_max(lw.router, wf);
      for (const reference::FfnWeights& e : lw.experts) {
        column_max(e.gate, wf);
        column_max(e.up, wf);
      }
    } else {
      column_max(lw.ffn.gate, wf);
      column_max(lw.ffn.up, wf);
      std::vector<float> wd(static_cast<std::size_t>(c.n_ff), 0.0f);
      column_max(lw.ffn.down, wd);
      s.down_input.push_back(factors_of(x.down_input[l], wd, alpha));
    }
    s.ffn_input.push_back(factors_of(x.ffn_input[l], wf, alpha));

    // Attention output: one factor per KV channel, from the largest
    // activation and weight over the query heads that share it.
    const std::size_t hd = static_cast<std::size_t>(c.head_dim);
    const std::size_t group = static_cast<std::size_t>(c.n_head / c.n_head_kv);
    std::vector<float> wo(static_cast<std::size_t>(c.n_head) * hd, 0.0f);
    column_max(lw.wo, wo);
    std::vector<float> so(wo.size(), 1.0f);
    for (std::size_t g = 0; g < static_cast<std::size_t>(c.n_head_kv); ++g) {
      for (std::size_t d = 0; d < hd; ++d) {
        float xm = 0.0f, wm = 0.0f;
        for (std::size_t h = g * group; h < (g + 1) * group; ++h) {
          xm = std::max(xm, x.attention_output[l][h * hd + d]);
          wm = std::max(wm, wo[h * hd + d]);
        }
        const float f = factor(xm, wm, alpha);
        for (std::size_t h = g * group; h < (g + 1) * group; ++h) so[h * hd + d] = f;
      }
    }
    s.attention_output.push_back(std::move(so));
  }
  std::vector<float> wh(static_cast<std::size_t>(c.n_embd), 0.0f);
  column_max(w.lm_head(), wh);
  // No maxima of the head's input seen: factors of 1 (factor() gives 1 for 0).
  const std::vector<float> none(wh.size(), 0.0f);
  s.output_input.push_back(factors_of(x.output_input.empty() ? none : x.output_input[0], wh, alpha));
  return s;
}

void apply_smoothing(const ModelConfig& c, const ChannelValues& s, reference::Weights& w) {
  for (int il = 0; il < c.n_layer; ++il) {
    const auto l = static_cast<std::size_t>(il);
    reference::LayerWeights& lw = w.layers[l];
    for (Eigen::Index j = 0; j < lw.attn_norm.size(); ++j) lw.attn_norm(j) /= s.attention_input[l][static_cast<std::size_t>(j)];
    for (MatrixRM* m : {&lw.wq, &lw.wk, &lw.wv}) scale_columns(*m, s.attention_input[l]);
    std::vector<float> kv(static_cast<std::size_t>(lw.wv.rows()));
    for (std::size_t i = 0; i < kv.size(); ++i) kv[i] = kv_factor(c, s.attention_output[l], i);
    divide_rows(lw.wv, kv);
    scale_columns(lw.wo, s.attention_output[l]);
    for (Eigen::Index j = 0; j < lw.ffn_norm.size(); ++j) lw.ffn_norm(j) /= s.ffn_input[l][static_cast<std::size_t>(j)];
    if (c.is_moe()) {
      scale_columns(lw.router, s.ffn_input[l]);
      for (reference::FfnWeights& e : lw.experts) {
        scale_columns(e.gate, s.ffn_input[l]);
        scale_columns(e.up, s.ffn_input[l]);
      }
    } else {
      scale_columns(lw.ffn.gate, s.ffn_input[l]);
      scale_columns(lw.ffn.up, s.ffn_input[l]);
      divide_rows(lw.ffn.up, s.down_input[l]);
      scale_columns(lw.ffn.down, s.down_input[l]);
    }
  }
  if (s.output_input.empty()) return;
  for (Eigen::Index j = 0; j < w.output_norm.size(); ++j) w.output_norm(j) /= s.output_input[0][static_cast<std::size_t>(j)];
  if (w.output.size() == 0) w.output = w.token_embd;  // untied: the lookup keeps the embedding's rows
  scale_columns(w.output, s.output_input[0]);
}

Status write_smoothed_model(const Model& model, const ChannelValues& s, const std::string& path) {
  LPU_ASSIGN_OR_RETURN(reference::Weights w, load_fp32_weights(model));
  apply_smoothing(model.config(), s, w);
  return write_weights(model, w, path);
}

Status write_weights(const Model& model, const reference::Weights& w, const std::string& path) {
  const ModelConfig& c = model.config();
  const gguf::File& in = model::model_file(model);
  gguf::Writer out;
  for (const gguf::KeyValue& kv : in.metadata()) {
    if (kv.key.rfind("split.", 0) == 0 || kv.key == "general.file_type") continue;
    out.set(kv.key, kv.value);
  }
  out.set_u32("general.file_type", 0);
  auto put = [&out](const std::string& name, const float* data, std::uint64_t cols, std::uint64_t rows,
                    std::uint64_t mats = 1) {
    std::vector<std::uint64_t> dims = {cols};
    if (rows > 1 || mats > 1) dims.push_back(rows);
    if (mats > 1) dims.push_back(mats);
    return out.add_tensor_f32(name, dims, gguf::TensorType::kF32, std::span<const float>(data, cols * rows * mats));
  };
  auto mat = [&](const std::string& name, const MatrixRM& m) {
    return put(name, m.data(), static_cast<std::uint64_t>(m.cols()), static_cast<std::uint64_t>(m.rows()));
  };
  auto vec = [&](const std::string& name, const Eigen::VectorXf& v) {
    return put(name, v.data(), static_cast<std::uint64_t>(v.size()), 1);
  };
  LPU_TRY(mat("token_embd.weight", w.token_embd), path);
  LPU_TRY(vec("output_norm.weight", w.output_norm), path);
  if (w.output.size() != 0) LPU_TRY(mat("output.weight", w.output), path);
  if (!w.rope_freqs.empty()) LPU_TRY(put("rope_freqs.weight", w.rope_freqs.data(), w.rope_freqs.size(), 1), path);
  for (int il = 0; il < c.n_layer; ++il) {
    const reference::LayerWeights& l = w.layers[static_cast<std::size_t>(il)];
    auto name = [il](const char* what) { return "blk." + std::to_string(il) + "." + what + ".weight"; };
    LPU_TRY(vec(name("attn_norm"), l.attn_norm), path);
    LPU_TRY(mat(name("attn_q"), l.wq), path);
    LPU_TRY(mat(name("attn_k"), l.wk), path);
    LPU_TRY(mat(name("attn_v"), l.wv), path);
    LPU_TRY(mat(name("attn_output"), l.wo), path);
    LPU_TRY(vec(name("ffn_norm"), l.ffn_norm), path);
    if (!c.is_moe()) {
      LPU_TRY(mat(name("ffn_gate"), l.ffn.gate), path);
      LPU_TRY(mat(name("ffn_up"), l.ffn.up), path);
      LPU_TRY(mat(name("ffn_down"), l.ffn.down), path);
      continue;
    }
    LPU_TRY(mat(name("ffn_gate_inp"), l.router), path);
    for (const char* which : {"ffn_gate_exps", "ffn_up_exps", "ffn_down_exps"}) {
      std::vector<float> stacked;
      std::uint64_t rows = 0, cols = 0;
      for (const reference::FfnWeights& e : l.experts) {
        const MatrixRM& m = std::string(which) == "ffn_gate_exps" ? e.gate : std::string(which) == "ffn_up_exps" ? e.up : e.down;
        stacked.insert(stacked.end(), m.data(), m.data() + m.size());
        rows = static_cast<std::uint64_t>(m.rows());
        cols = static_cast<std::uint64_t>(m.cols());
      }
      LPU_TRY(put(name(which), stacked.data(), cols, rows, l.experts.size()), path);
    }
  }
  return out.write(path);
}

}  // namespace lpu::quant
