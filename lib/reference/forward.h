#pragma once
// One forward step of the reference model over a block of new tokens,
// reading and extending a KV cache. The graph is llama.cpp's for
// architecture "llama":
//   x = embed(tokens)
//   per layer: h = rms_norm(x) * attn_norm
//              q, k, v = Wq h, Wk h, Wv h; RoPE(q, k)
//              x += Wo attention(q, K, V)   (causal, GQA, scale 1/sqrt(head_dim))
//              h = rms_norm(x) * ffn_norm
//              x += Wdown (silu(Wgate h) * Wup h)            (dense)
//                or sum_k w_k * expert_k(h)  (MoE: softmax router, top-k,
//                                             weights renormalised to 1)
//   logits = lm_head(rms_norm(x) * output_norm)

#include <span>
#include <vector>

#include "include/lpu/model.h"
#include "include/lpu/token.h"
#include "lib/reference/ops.h"
#include "lib/reference/weights.h"

namespace lpu::reference {

/// Keys and values of every cached position: per layer, max_context rows of
/// n_head_kv*head_dim.
struct KvCache {
  std::vector<MatrixRM> k;
  std::vector<MatrixRM> v;
};

/// A zeroed cache of `positions` rows per layer for a model of `config`.
KvCache zero_kv_cache(const ModelConfig& config, Eigen::Index positions);

/// Where the inputs of a layer's weight matrices are observed.
enum class ActivationSite {
  kAttentionInput,  ///< rms_norm(x) * attn_norm: the input of Wq, Wk, Wv
  kAttentionOutput, ///< attention's output: the input of Wo
  kFfnInput,        ///< rms_norm(x) * ffn_norm: the input of the gate, up and router
  kDownInput,       ///< silu(gate) * up: the input of Wdown (dense layers)
  kOutputInput,     ///< rms_norm(x) * output_norm: the input of the output head (layer n_layer)
};

/// Sees the activations that feed each layer's matrices: calibration
/// reads them; error analysis may round them in place, and the layer then
/// computes with the rounded rows.
class ActivationObserver {
 public:
  virtual ~ActivationObserver() = default;
  /// One row per token.
  virtual void observe(int layer, ActivationSite site, MatrixRM& rows) = 0;
};

/// Runs `tokens` (already validated) at positions pos0, pos0+1, ... and
/// returns the final-normalised hidden states, one row per token. Writes
/// the tokens' keys and values into `cache`.
MatrixRM forward_hidden(const ModelConfig& config, const Weights& weights, const Rope& rope,
                        KvCache& cache, std::span<const TokenId> tokens, int pos0,
                        ActivationObserver* observer = nullptr);

}  // namespace lpu::reference
