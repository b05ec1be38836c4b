#pragma once
// Every weight of a Llama-family model dequantised to fp32 Eigen matrices.

#include <Eigen/Core>

#include <vector>

#include "include/lpu/model.h"
#include "include/lpu/status.h"
#include "lib/gguf/file.h"
#include "lib/reference/ops.h"

namespace lpu::reference {

/// One expert's (or a dense layer's) SwiGLU feed-forward network.
struct FfnWeights {
  MatrixRM gate;  // n_ff x n_embd
  MatrixRM up;    // n_ff x n_embd
  MatrixRM down;  // n_embd x n_ff
};

struct LayerWeights {
  Eigen::VectorXf attn_norm;
  MatrixRM wq;  // n_head*head_dim x n_embd
  MatrixRM wk;  // n_head_kv*head_dim x n_embd
  MatrixRM wv;  // n_head_kv*head_dim x n_embd
  MatrixRM wo;  // n_embd x n_head*head_dim
  Eigen::VectorXf ffn_norm;
  FfnWeights ffn;                   // dense models
  MatrixRM router;                  // n_expert x n_embd (MoE only)
  std::vector<FfnWeights> experts;  // n_expert of them (MoE only)
};

struct Weights {
  MatrixRM token_embd;  // n_vocab x n_embd
  MatrixRM output;      // n_vocab x n_embd; empty when tied to token_embd
  Eigen::VectorXf output_norm;
  std::vector<float> rope_freqs;  // empty unless rope_freqs.weight is present
  std::vector<LayerWeights> layers;

  const MatrixRM& lm_head() const { return output.size() == 0 ? token_embd : output; }
};

/// Dequantises the weights of `file`, whose tensors must already have been
/// checked against `config` (model::check_model_tensors).
Result<Weights> load_weights(const gguf::File& file, const ModelConfig& config);

}  // namespace lpu::reference
