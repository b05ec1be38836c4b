#pragma once
// The step graph: one decode or prefill step of a Llama or Mixtral model as
// ops over named tensors, built from a ModelConfig for a number of token
// rows and a context bucket. It is the one description of the model that
// the compiler lowers (lib/compiler); the backends run what it lowers to,
// the int8 arithmetic of docs/quantization.md:
//
//   x = embed(tokens); angles = rope_angles(positions)
//   per layer: h = rmsnorm(x, attn_norm); hq = quantize(h)
//              qkv = hq [Wq Wk Wv]^T; rope(q, k); kv_append(k, v)
//              a = attention(q, K, V); aq = quantize(a); y = aq Wo^T; x += y
//              h = rmsnorm(x, ffn_norm); hq = quantize(h)
//              dense: gu = hq [Wgate Wup]^T; s = silu(g) * u; sq = quantize(s);
//                     y = sq Wdown^T
//              MoE:   (ids, w) = router_topk(h); per row and rank j: the
//                     expert ids[j]'s network as above; y = sum_j w_j y_j
//                     in rank order
//              x += y
//   hidden = rmsnorm(x, output_norm); logits = quantize(hidden) Wout^T
//
// Weight tensors are named by the model's one tensor list
// (lib/model: expected_tensors).

#include <cstdint>
#include <string>
#include <vector>

#include "include/lpu/model.h"
#include "include/lpu/status.h"

namespace lpu::graph {

enum class OpKind : std::uint8_t {
  kEmbed,
  kRopeAngles,
  kRmsNorm,
  kQuantize,
  kMatmul,
  kRope,
  kKvAppend,
  kAttention,
  kAdd,
  kSiluMul,
  kRouter,
  kExpertUp,    ///< per (row, rank): the chosen expert's gate and up matmul
  kExpertDown,  ///< per (row, rank): the chosen expert's down matmul
  kCombine,
};
const char* op_kind_name(OpKind k);

enum class TensorKind : std::uint8_t { kInput, kWeight, kActivation, kKv, kOutput };

struct Tensor {
  std::string name;
  TensorKind kind = TensorKind::kActivation;
  std::uint32_t rows = 0;
  std::uint32_t cols = 0;
  /// True for int8 quantised rows (values, scales, sums).
  bool quantized = false;
  /// Activations: the step buffer the tensor lives in ("x", "h", "qkv"...);
  /// every layer's tensor of one role shares it.
  std::string buffer;
};

struct Op {
  OpKind kind = OpKind::kAdd;
  std::string name;  ///< "blk.3.qkv", "blk.3.attn", "lm_head"
  std::int32_t layer = -1;
  std::vector<std::uint32_t> inputs;   ///< tensor ids
  std::vector<std::uint32_t> outputs;  ///< tensor ids
  /// Matmuls: the GGUF weight tensors whose rows are the output columns,
  /// concatenated in this order (q, k, v; gate, up).
  std::vector<std::string> weights;
  std::uint32_t m = 0;  ///< rows
  std::uint32_t k = 0;  ///< input width
  std::uint32_t n = 0;  ///< output width
};

struct StepShape {
  /// Token rows of the step: one per slot when decoding, the chunk when
  /// prefilling one slot.
  std::uint32_t rows = 1;
  /// KV positions every row can attend over (the context bucket).
  std::uint32_t context = 0;
  bool prefill = false;
  /// The head (output norm, its quantise, lm_head) runs on the last row
  /// only: a prefill chunk needs no other row's logits to continue.
  bool last_row_logits = false;
};

struct Graph {
  ModelConfig config;
  StepShape shape;
  std::vector<Tensor> tensors;
  std::vector<Op> ops;

  const Tensor& tensor(std::uint32_t id) const { return tensors[id]; }
};

/// True for the ops after the last layer: the output norm, its quantise
/// and lm_head.
bool is_head_op(const Op& op);

/// Rows `op` computes: the step's rows, or 1 for a head op of a step with
/// last_row_logits (reading the step's last row of x).
std::uint32_t op_rows(const Graph& g, const Op& op);

/// Builds the step graph; checks the config's shapes (positive widths,
/// heads dividing, experts used <= experts) and the step shape.
Result<Graph> build_step_graph(const ModelConfig& config, const StepShape& shape);

}  // namespace lpu::graph
