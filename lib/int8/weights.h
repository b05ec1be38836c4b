#pragma once
// The weights of the int8 forward pass: every matmul imported into the int8
// scheme and packed once (kernels/pack), the norms and the MoE router in
// fp32, and the token embedding kept in its GGUF encoding (a lookup, not a
// matmul: rows are dequantised exactly when read, as llama.cpp does).
//
// Matrices that read the same input are packed as one: q, k and v rows
// together, gate and up rows together. Each output channel is quantised on
// its own and computed on its own, so a fused matrix gives the same bits as
// the separate ones, in fewer, larger kernel calls.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "include/lpu/model.h"
#include "include/lpu/status.h"
#include "include/lpu/token.h"
#include "kernels/pack/packed_weights.h"
#include "lib/gguf/file.h"
#include "lib/gguf/tensor_type.h"

namespace lpu::int8 {

/// One SwiGLU network (a dense layer's or one expert's).
struct FfnWeights {
  /// 2 n_ff x n_embd: the n_ff gate rows, then the n_ff up rows.
  kernels::PackedWeights gate_up;
  /// n_embd x n_ff.
  kernels::PackedWeights down;
};

struct LayerWeights {
  std::vector<float> attn_norm;
  /// (n_head + 2 n_head_kv) * head_dim x n_embd: q rows, k rows, v rows.
  kernels::PackedWeights qkv;
  /// n_embd x n_head * head_dim.
  kernels::PackedWeights wo;
  std::vector<float> ffn_norm;
  FfnWeights ffn;                   // dense models
  std::vector<float> router;        // n_expert x n_embd, fp32 (MoE only)
  std::vector<FfnWeights> experts;  // n_expert of them (MoE only)
};

struct Weights {
  gguf::TensorType embd_type = gguf::TensorType::kF32;
  std::size_t embd_row_bytes = 0;
  /// token_embd.weight as stored in the file (n_vocab rows).
  std::vector<std::uint8_t> embd;
  /// output.weight, or token_embd.weight when tied: n_vocab x n_embd.
  kernels::PackedWeights lm_head;
  std::vector<float> output_norm;
  std::vector<float> rope_freqs;  // empty unless rope_freqs.weight is present
  std::vector<LayerWeights> layers;

  /// Writes token `t`'s embedding (n_embd floats) to `out`; t must be valid.
  void embed(TokenId t, std::size_t n_embd, float* out) const;
  /// Bytes held (packed matrices, fp32 vectors, embedding).
  std::size_t size_bytes() const;
};

/// Imports the weights of `file` (already checked against `config` by
/// model::check_model_tensors) at group size G.
Result<Weights> load_weights(const gguf::File& file, const ModelConfig& config,
                             std::size_t group_size);

}  // namespace lpu::int8
