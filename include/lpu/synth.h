#pragma once
// Synthetic models: seeded Llama and Mixtral-shaped GGUF files with random
// weights, for tests (tiny shapes) and benchmarks (about a billion
// parameters). Files load in llama.cpp and are bit-identical for the same
// options on every machine: each weight is a pure function of (seed, tensor
// name, element index) computed with correctly rounded IEEE operations only.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "lpu/status.h"

namespace lpu {

/// Shape, hyperparameters and storage type of a synthetic model.
struct SynthOptions {
  /// GGUF architecture; only "llama" (dense or mixture-of-experts) is written.
  std::string arch = "llama";
  int n_vocab = 512;
  int n_embd = 64;
  int n_layer = 2;
  int n_head = 4;
  int n_head_kv = 2;
  int n_ff = 128;
  int n_ctx = 256;
  /// Experts per MoE layer (0: dense FFN) and experts routed per token.
  int n_expert = 0;
  int n_expert_used = 0;
  float rope_theta = 10000.0f;
  float rms_eps = 1e-5f;
  /// No output.weight: the output projection reuses token_embd.weight.
  bool tied_embeddings = false;
  /// Storage of the matrices: "f32", "f16" or "q8_0" (norms and the MoE
  /// router stay F32, as llama.cpp's quantiser keeps them).
  std::string weight_type = "f32";
  std::uint64_t seed = 1;
  /// Residual channels whose attention and FFN norm weights are scaled by
  /// outlier_scale (every n_embd / outlier_channels-th channel): the
  /// activation outliers of trained models, planted on purpose. 0: none.
  int outlier_channels = 0;
  float outlier_scale = 40.0f;
};

/// Named shapes: "tiny-dense" (vocab 512, embd 64, 2 layers, 4 heads, 2 KV
/// heads, FFN 128), "tiny-moe" (tiny-dense with 4 experts, top-2),
/// "llama-1b" (TinyLlama-1.1B's shape: vocab 32000, embd 2048, 22 layers,
/// 32 heads, 4 KV heads, FFN 5632; Q8_0; 1,100,048,384 parameters) and
/// "mixtral-1b" (vocab 32000, embd 1024, 12 layers, 16 heads, 4 KV heads,
/// 8 experts of FFN 2816, top-2, rope base 1e6; Q8_0; 927,589,376
/// parameters). An error lists the names for any other.
Result<SynthOptions> synth_preset(std::string_view name);

/// The preset names accepted by synth_preset, in a stable order.
std::vector<std::string> synth_preset_names();

/// Checks the options (positive sizes, heads dividing the width, even head
/// size, expert counts, a known weight type, Q8_0 row lengths a multiple of
/// 32); the error names the field and what was expected.
Status validate_synth_options(const SynthOptions& options);

/// Number of weights (all tensors' elements) the options describe.
std::uint64_t synth_parameter_count(const SynthOptions& options);

/// Writes the model to `path` (atomically). Tensor names, shapes and
/// metadata keys are those llama.cpp reads for `general.architecture =
/// llama`, with a small SentencePiece-style vocabulary (<unk>, <s>, </s>,
/// 256 byte tokens, then printable pieces). Matrices are N(0, 1/fan_in)
/// (fan_in = the row length), norm weights 1 + N(0, 0.05^2), so activations
/// stay O(1) through the layers and logits are not degenerate.
Status write_synthetic_model(const SynthOptions& options, const std::string& path);

}  // namespace lpu
