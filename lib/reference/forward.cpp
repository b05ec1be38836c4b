#include "lib/reference/forward.h"

#include <algorithm>
#include <cmath>
#include <functional>

namespace lpu::reference {
namespace {

using RowVector = Eigen::Matrix<float, 1, Eigen::Dynamic>;

// Causal grouped-query attention of the n new queries (rows of q, already
// rotated) over cached positions 0 .. pos0+i. Query head h reads key/value
// head h / (n_head / n_head_kv), as GGML's broadcast does.
MatrixRM attention(const ModelConfig& c, const MatrixRM& q, const MatrixRM& k_cache,
                   const MatrixRM& v_cache, int pos0) {
  const int hd = c.head_dim;
  const int group = c.n_head / c.n_head_kv;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  MatrixRM out = MatrixRM::Zero(q.rows(), q.cols());
  std::vector<float> p;
  for (Eigen::Index i = 0; i < q.rows(); ++i) {
    const int n_kv = pos0 + static_cast<int>(i) + 1;
    for (int h = 0; h < c.n_head; ++h) {
      const int g = h / group;
      const auto qh = q.row(i).segment(static_cast<Eigen::Index>(h) * hd, hd);
      p.resize(static_cast<std::size_t>(n_kv));
      for (int j = 0; j < n_kv; ++j) {
        const auto kj = k_cache.row(j).segment(static_cast<Eigen::Index>(g) * hd, hd);
        p[static_cast<std::size_t>(j)] = kj.dot(qh) * scale;
      }
      softmax(p);
      auto oh = out.row(i).segment(static_cast<Eigen::Index>(h) * hd, hd);
      for (int j = 0; j < n_kv; ++j) {
        oh += p[static_cast<std::size_t>(j)] *
              v_cache.row(j).segment(static_cast<Eigen::Index>(g) * hd, hd);
      }
    }
  }
  return out;
}

// silu(gate x) * (up x), then down: one row per token. `seen` (when set)
// observes the down projection's input.
MatrixRM swiglu(const FfnWeights& w, const MatrixRM& h, const std::function<void(MatrixRM&)>& seen = {}) {
  MatrixRM g = h * w.gate.transpose();
  const MatrixRM u = h * w.up.transpose();
  for (Eigen::Index r = 0; r < g.rows(); ++r) {
    for (Eigen::Index j = 0; j < g.cols(); ++j) g(r, j) = silu(g(r, j)) * u(r, j);
  }
  if (seen) seen(g);
  return g * w.down.transpose();
}

// Mixture of experts per token: softmax over all router logits, the top
// n_expert_used experts, their probabilities renormalised to sum to one
// (llama.cpp's norm_w for this architecture, with its lower clamp of the
// sum), and the weighted expert outputs added in the order chosen.
MatrixRM moe(const ModelConfig& c, const LayerWeights& l, const MatrixRM& h) {
  MatrixRM out = MatrixRM::Zero(h.rows(), h.cols());
  for (Eigen::Index r = 0; r < h.rows(); ++r) {
    const MatrixRM x = h.row(r);
    RowVector logits = x * l.router.transpose();
    std::span<float> probs(logits.data(), static_cast<std::size_t>(logits.size()));
    softmax(probs);
    const std::vector<int> chosen = top_k(probs, c.n_expert_used);
    double sum = 0.0;
    for (int e : chosen) sum += static_cast<double>(probs[static_cast<std::size_t>(e)]);
    const float norm = std::max(static_cast<float>(sum), 6.103515625e-5f);
    for (int e : chosen) {
      const float w = probs[static_cast<std::size_t>(e)] / norm;
      const MatrixRM y = swiglu(l.experts[static_cast<std::size_t>(e)], x);
      out.row(r) += y.row(0) * w;
    }
  }
  return out;
}

void layer_forward(const ModelConfig& c, const LayerWeights& l, const Rope& rope, MatrixRM& k_cache,
                   MatrixRM& v_cache, MatrixRM& x, int pos0, int layer, ActivationObserver* observer) {
  MatrixRM h = x;
  rms_norm_rows(h, l.attn_norm, c.rms_eps);
  if (observer != nullptr) observer->observe(layer, ActivationSite::kAttentionInput, h);
  MatrixRM q = h * l.wq.transpose();
  MatrixRM k = h * l.wk.transpose();
  const MatrixRM v = h * l.wv.transpose();
  for (Eigen::Index i = 0; i < x.rows(); ++i) {
    const int pos = pos0 + static_cast<int>(i);
    rope.apply(q.row(i).data(), c.n_head, pos);
    rope.apply(k.row(i).data(), c.n_head_kv, pos);
  }
  k_cache.middleRows(pos0, x.rows()) = k;
  v_cache.middleRows(pos0, x.rows()) = v;
  MatrixRM a = attention(c, q, k_cache, v_cache, pos0);
  if (observer != nullptr) observer->observe(layer, ActivationSite::kAttentionOutput, a);
  x += a * l.wo.transpose();

  h = x;
  rms_norm_rows(h, l.ffn_norm, c.rms_eps);
  if (observer != nullptr) observer->observe(layer, ActivationSite::kFfnInput, h);
  if (c.is_moe()) {
    x += moe(c, l, h);
  } else if (observer != nullptr) {
    x += swiglu(l.ffn, h, [&](MatrixRM& d) { observer->observe(layer, ActivationSite::kDownInput, d); });
  } else {
    x += swiglu(l.ffn, h);
  }
}

}  // namespace

KvCache zero_kv_cache(const ModelConfig& c, Eigen::Index positions) {
  const Eigen::Index kv_dim = static_cast<Eigen::Index>(c.n_head_kv) * c.head_dim;
  KvCache cache;
  for (int il = 0; il < c.n_layer; ++il) {
    cache.k.push_back(MatrixRM::Zero(positions, kv_dim));
    cache.v.push_back(MatrixRM::Zero(positions, kv_dim));
  }
  return cache;
}

MatrixRM forward_hidden(const ModelConfig& config, const Weights& weights, const Rope& rope,
                        KvCache& cache, std::span<const TokenId> tokens, int pos0, ActivationObserver* observer) {
  MatrixRM x(static_cast<Eigen::Index>(tokens.size()), config.n_embd);
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    x.row(static_cast<Eigen::Index>(i)) = weights.token_embd.row(tokens[i]);
  }
  for (int il = 0; il < config.n_layer; ++il) {
    const auto l = static_cast<std::size_t>(il);
    layer_forward(config, weights.layers[l], rope, cache.k[l], cache.v[l], x, pos0, il, observer);
  }
  rms_norm_rows(x, weights.output_norm, config.rms_eps);
  if (observer != nullptr) observer->observe(config.n_layer, ActivationSite::kOutputInput, x);
  return x;
}

}  // namespace lpu::reference
