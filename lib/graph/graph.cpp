#include "lib/graph/graph.h"

#include <string>

#include "lib/model/config_internal.h"

namespace lpu::graph {

const char* op_kind_name(OpKind k) {
  switch (k) {
    case OpKind::kEmbed: return "embed";
    case OpKind::kRopeAngles: return "rope_angles";
    case OpKind::kRmsNorm: return "rmsnorm";
    case OpKind::kQuantize: return "quantize";
    case OpKind::kMatmul: return "matmul";
    case OpKind::kRope: return "rope";
    case OpKind::kKvAppend: return "kv_append";
    case OpKind::kAttention: return "attention";
    case OpKind::kAdd: return "add";
    case OpKind::kSiluMul: return "silu_mul";
    case OpKind::kRouter: return "router";
    case OpKind::kExpertUp: return "expert_up";
    case OpKind::kExpertDown: return "expert_down";
    case OpKind::kCombine: return "combine";
  }
  return "?";
}

namespace {

class Builder {
 public:
  Builder(const ModelConfig& c, const StepShape& s) {
    g_.config = c;
    g_.shape = s;
  }

  std::uint32_t tensor(std::string name, TensorKind kind, std::uint32_t cols, bool quantized,
                       std::string buffer, std::uint32_t rows = 0) {
    Tensor t;
    t.name = std::move(name);
    t.kind = kind;
    t.rows = rows == 0 ? g_.shape.rows : rows;
    t.cols = cols;
    t.quantized = quantized;
    t.buffer = std::move(buffer);
    g_.tensors.push_back(std::move(t));
    return static_cast<std::uint32_t>(g_.tensors.size() - 1);
  }
  // An activation of layer `il` in buffer `buf`.
  std::uint32_t act(int il, const std::string& buf, std::uint32_t cols, bool quantized = false) {
    const std::string prefix = il < 0 ? "" : "blk." + std::to_string(il) + ".";
    return tensor(prefix + buf, TensorKind::kActivation, cols, quantized, buf);
  }

  Op& op(OpKind kind, std::string name, int il, std::vector<std::uint32_t> in,
         std::vector<std::uint32_t> out, std::uint32_t k = 0, std::uint32_t n = 0) {
    Op o;
    o.kind = kind;
    o.name = std::move(name);
    o.layer = il;
    o.inputs = std::move(in);
    o.outputs = std::move(out);
    o.m = g_.shape.rows;
    o.k = k;
    o.n = n;
    g_.ops.push_back(std::move(o));
    return g_.ops.back();
  }

  Graph take() { return std::move(g_); }
  const ModelConfig& c() const { return g_.config; }

 private:
  Graph g_;
};

std::string lname(int il, const char* what) { return "blk." + std::to_string(il) + "." + what; }

// rmsnorm then quantize: returns the quantised tensor.
std::uint32_t norm_quant(Builder& b, int il, std::uint32_t x, const char* norm) {
  const auto d = static_cast<std::uint32_t>(b.c().n_embd);
  const std::uint32_t h = b.act(il, "h", d);
  b.op(OpKind::kRmsNorm, lname(il, norm), il, {x}, {h}, d, d).weights = {
      model::layer_tensor_name(il, norm)};
  const std::uint32_t hq = b.act(il, "hq", d, true);
  b.op(OpKind::kQuantize, lname(il, norm) + ".q", il, {h}, {hq}, d, d);
  return hq;
}

void attention_block(Builder& b, int il, std::uint32_t x, std::uint32_t angles) {
  const ModelConfig& c = b.c();
  const auto d = static_cast<std::uint32_t>(c.n_embd);
  const auto q_dim = static_cast<std::uint32_t>(c.n_head * c.head_dim);
  const auto kv_dim = static_cast<std::uint32_t>(c.n_head_kv * c.head_dim);
  const std::uint32_t hq = norm_quant(b, il, x, "attn_norm");
  const std::uint32_t qkv = b.act(il, "qkv", q_dim + 2 * kv_dim);
  b.op(OpKind::kMatmul, lname(il, "qkv"), il, {hq}, {qkv}, d, q_dim + 2 * kv_dim).weights = {
      model::layer_tensor_name(il, "attn_q"), model::layer_tensor_name(il, "attn_k"),
      model::layer_tensor_name(il, "attn_v")};
  b.op(OpKind::kRope, lname(il, "rope"), il, {qkv, angles}, {qkv}, q_dim + kv_dim,
       q_dim + kv_dim);
  const std::uint32_t kv = b.tensor(lname(il, "kv"), TensorKind::kKv, 2 * kv_dim, false, "");
  b.op(OpKind::kKvAppend, lname(il, "kv_append"), il, {qkv}, {kv}, 2 * kv_dim, 2 * kv_dim);
  const std::uint32_t a = b.act(il, "attn", q_dim);
  b.op(OpKind::kAttention, lname(il, "attn"), il, {qkv, kv}, {a}, q_dim, q_dim);
  const std::uint32_t aq = b.act(il, "aq", q_dim, true);
  b.op(OpKind::kQuantize, lname(il, "attn.q"), il, {a}, {aq}, q_dim, q_dim);
  const std::uint32_t y = b.act(il, "y", d);
  b.op(OpKind::kMatmul, lname(il, "attn_output"), il, {aq}, {y}, q_dim, d).weights = {
      model::layer_tensor_name(il, "attn_output")};
  b.op(OpKind::kAdd, lname(il, "attn_residual"), il, {x, y}, {x}, d, d);
}

std::uint32_t dense_ffn(Builder& b, int il, std::uint32_t hq) {
  const ModelConfig& c = b.c();
  const auto d = static_cast<std::uint32_t>(c.n_embd);
  const auto ff = static_cast<std::uint32_t>(c.n_ff);
  const std::uint32_t gu = b.act(il, "gu", 2 * ff);
  b.op(OpKind::kMatmul, lname(il, "ffn_gate_up"), il, {hq}, {gu}, d, 2 * ff).weights = {
      model::layer_tensor_name(il, "ffn_gate"), model::layer_tensor_name(il, "ffn_up")};
  const std::uint32_t s = b.act(il, "s", ff);
  b.op(OpKind::kSiluMul, lname(il, "ffn_silu"), il, {gu}, {s}, 2 * ff, ff);
  const std::uint32_t sq = b.act(il, "sq", ff, true);
  b.op(OpKind::kQuantize, lname(il, "ffn_silu.q"), il, {s}, {sq}, ff, ff);
  const std::uint32_t y = b.act(il, "y", d);
  b.op(OpKind::kMatmul, lname(il, "ffn_down"), il, {sq}, {y}, ff, d).weights = {
      model::layer_tensor_name(il, "ffn_down")};
  return y;
}

std::uint32_t moe_ffn(Builder& b, int il, std::uint32_t hq) {
  const ModelConfig& c = b.c();
  const auto d = static_cast<std::uint32_t>(c.n_embd);
  const auto ff = static_cast<std::uint32_t>(c.n_ff);
  const auto ne = static_cast<std::uint32_t>(c.n_expert);
  const auto k = static_cast<std::uint32_t>(c.n_expert_used);
  // The router reads the normalised fp32 rows (the quantised ones' source).
  const std::uint32_t h = hq - 1;
  const std::uint32_t route = b.act(il, "route", 2 * k);
  b.op(OpKind::kRouter, lname(il, "ffn_gate_inp"), il, {h}, {route}, d, ne).weights = {
      model::layer_tensor_name(il, "ffn_gate_inp")};
  const std::uint32_t gu = b.act(il, "egu", 2 * ff * k);
  b.op(OpKind::kExpertUp, lname(il, "ffn_gate_up_exps"), il, {hq, route}, {gu}, d, 2 * ff)
      .weights = {model::layer_tensor_name(il, "ffn_gate_exps"),
                  model::layer_tensor_name(il, "ffn_up_exps")};
  const std::uint32_t s = b.act(il, "es", ff * k);
  b.op(OpKind::kSiluMul, lname(il, "ffn_silu_exps"), il, {gu}, {s}, 2 * ff, ff);
  const std::uint32_t sq = b.act(il, "esq", ff * k, true);
  b.op(OpKind::kQuantize, lname(il, "ffn_silu_exps.q"), il, {s}, {sq}, ff, ff);
  const std::uint32_t ey = b.act(il, "ey", d * k);
  b.op(OpKind::kExpertDown, lname(il, "ffn_down_exps"), il, {sq, route}, {ey}, ff, d).weights = {
      model::layer_tensor_name(il, "ffn_down_exps")};
  const std::uint32_t y = b.act(il, "y", d);
  b.op(OpKind::kCombine, lname(il, "ffn_combine"), il, {ey, route}, {y}, d, d);
  return y;
}

Status check(const ModelConfig& c, const StepShape& s) {
  if (c.n_embd <= 0 || c.n_layer <= 0 || c.n_head <= 0 || c.n_head_kv <= 0 || c.head_dim <= 0 ||
      c.n_ff <= 0 || c.n_vocab <= 0) {
    return invalid_argument("model '" + c.name + "': every width, head and layer count must be positive");
  }
  if (c.n_head % c.n_head_kv != 0) {
    return invalid_argument("model '" + c.name + "': n_head " + std::to_string(c.n_head) +
                            " is not a multiple of n_head_kv " + std::to_string(c.n_head_kv));
  }
  if (c.is_moe() && (c.n_expert_used <= 0 || c.n_expert_used > c.n_expert)) {
    return invalid_argument("model '" + c.name + "': n_expert_used " +
                            std::to_string(c.n_expert_used) + " (expected 1.." +
                            std::to_string(c.n_expert) + ")");
  }
  if (s.rows == 0 || s.context == 0) {
    return invalid_argument("step shape: rows and context must be >= 1");
  }
  return {};
}

}  // namespace

bool is_head_op(const Op& op) {
  return op.layer < 0 && (op.kind == OpKind::kRmsNorm || op.kind == OpKind::kQuantize || op.kind == OpKind::kMatmul);
}

std::uint32_t op_rows(const Graph& g, const Op& op) {
  return g.shape.last_row_logits && is_head_op(op) ? 1 : g.shape.rows;
}

Result<Graph> build_step_graph(const ModelConfig& c, const StepShape& shape) {
  LPU_TRY(check(c, shape), "step graph");
  Builder b(c, shape);
  const auto d = static_cast<std::uint32_t>(c.n_embd);
  const std::uint32_t tokens = b.tensor("tokens", TensorKind::kInput, 1, false, "tokens");
  const std::uint32_t positions = b.tensor("positions", TensorKind::kInput, 1, false, "positions");
  const std::uint32_t x = b.act(-1, "x", d);
  b.op(OpKind::kEmbed, "token_embd", -1, {tokens}, {x}, d, d).weights = {"token_embd.weight"};
  const std::uint32_t angles = b.act(-1, "angles", static_cast<std::uint32_t>(c.rope_dim));
  b.op(OpKind::kRopeAngles, "rope_angles", -1, {positions}, {angles});
  for (int il = 0; il < c.n_layer; ++il) {
    attention_block(b, il, x, angles);
    const std::uint32_t hq = norm_quant(b, il, x, "ffn_norm");
    const std::uint32_t y = c.is_moe() ? moe_ffn(b, il, hq) : dense_ffn(b, il, hq);
    b.op(OpKind::kAdd, lname(il, "ffn_residual"), il, {x, y}, {x}, d, d);
  }
  const std::uint32_t h = b.act(-1, "h", d);
  b.op(OpKind::kRmsNorm, "output_norm", -1, {x}, {h}, d, d).weights = {"output_norm.weight"};
  const std::uint32_t hq = b.act(-1, "hq", d, true);
  b.op(OpKind::kQuantize, "output_norm.q", -1, {h}, {hq}, d, d);
  const auto v = static_cast<std::uint32_t>(c.n_vocab);
  const std::uint32_t logits = b.tensor("logits", TensorKind::kOutput, v, false, "logits");
  b.op(OpKind::kMatmul, "lm_head", -1, {hq}, {logits}, d, v).weights = {
      c.tied_embeddings ? "token_embd.weight" : "output.weight"};
  return b.take();
}

}  // namespace lpu::graph
