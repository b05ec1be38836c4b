#include "lib/reference/weights.h"

#include <string>

#include "lib/gguf/dequantize.h"
#include "lib/model/config_internal.h"

namespace lpu::reference {
namespace {

Result<std::vector<float>> dequantized(const gguf::File& file, const std::string& name) {
  const gguf::TensorInfo* t = file.find_tensor(name);
  if (t == nullptr) return not_found(file.path() + ": missing tensor '" + name + "'");
  return gguf::dequantize_tensor(file, *t);
}

// The tensor as `n_mat` stacked row-major matrices of rows x cols (GGML
// dims [cols, rows, n_mat]).
Result<std::vector<MatrixRM>> matrices(const gguf::File& file, const std::string& name,
                                       Eigen::Index rows, Eigen::Index cols, int n_mat) {
  LPU_ASSIGN_OR_RETURN(const std::vector<float> v, dequantized(file, name));
  if (v.size() != static_cast<std::size_t>(rows * cols * n_mat)) {
    return internal_error(file.path() + ": tensor '" + name + "' has " + std::to_string(v.size()) +
                          " values after dequantisation (expected " +
                          std::to_string(rows * cols * n_mat) + ")");
  }
  std::vector<MatrixRM> out;
  out.reserve(static_cast<std::size_t>(n_mat));
  for (int e = 0; e < n_mat; ++e) {
    out.emplace_back(Eigen::Map<const MatrixRM>(v.data() + e * rows * cols, rows, cols));
  }
  return out;
}

Result<MatrixRM> matrix(const gguf::File& file, const std::string& name, Eigen::Index rows,
                        Eigen::Index cols) {
  LPU_ASSIGN_OR_RETURN(std::vector<MatrixRM> m, matrices(file, name, rows, cols, 1));
  return std::move(m[0]);
}

Result<Eigen::VectorXf> vector(const gguf::File& file, const std::string& name, Eigen::Index n) {
  LPU_ASSIGN_OR_RETURN(MatrixRM m, matrix(file, name, 1, n));
  return Eigen::VectorXf(m.row(0).transpose());
}

Result<LayerWeights> load_layer(const gguf::File& f, const ModelConfig& c, int il) {
  const Eigen::Index d = c.n_embd;
  const Eigen::Index q = static_cast<Eigen::Index>(c.n_head) * c.head_dim;
  const Eigen::Index kv = static_cast<Eigen::Index>(c.n_head_kv) * c.head_dim;
  const Eigen::Index ff = c.n_ff;
  auto name = [il](const char* what) { return model::layer_tensor_name(il, what); };
  LayerWeights l;
  LPU_ASSIGN_OR_RETURN(l.attn_norm, vector(f, name("attn_norm"), d));
  LPU_ASSIGN_OR_RETURN(l.wq, matrix(f, name("attn_q"), q, d));
  LPU_ASSIGN_OR_RETURN(l.wk, matrix(f, name("attn_k"), kv, d));
  LPU_ASSIGN_OR_RETURN(l.wv, matrix(f, name("attn_v"), kv, d));
  LPU_ASSIGN_OR_RETURN(l.wo, matrix(f, name("attn_output"), d, q));
  LPU_ASSIGN_OR_RETURN(l.ffn_norm, vector(f, name("ffn_norm"), d));
  if (!c.is_moe()) {
    LPU_ASSIGN_OR_RETURN(l.ffn.gate, matrix(f, name("ffn_gate"), ff, d));
    LPU_ASSIGN_OR_RETURN(l.ffn.up, matrix(f, name("ffn_up"), ff, d));
    LPU_ASSIGN_OR_RETURN(l.ffn.down, matrix(f, name("ffn_down"), d, ff));
    return l;
  }
  LPU_ASSIGN_OR_RETURN(l.router, matrix(f, name("ffn_gate_inp"), c.n_expert, d));
  LPU_ASSIGN_OR_RETURN(std::vector<MatrixRM> gate,
                       matrices(f, name("ffn_gate_exps"), ff, d, c.n_expert));
  LPU_ASSIGN_OR_RETURN(std::vector<MatrixRM> up,
                       matrices(f, name("ffn_up_exps"), ff, d, c.n_expert));
  LPU_ASSIGN_OR_RETURN(std::vector<MatrixRM> down,
                       matrices(f, name("ffn_down_exps"), d, ff, c.n_expert));
  l.experts.resize(static_cast<std::size_t>(c.n_expert));
  for (std::size_t e = 0; e < l.experts.size(); ++e) {
    l.experts[e] = FfnWeights{std::move(gate[e]), std::move(up[e]), std::move(down[e])};
  }
  return l;
}

}  // namespace

Result<Weights> load_weights(const gguf::File& file, const ModelConfig& c) {
  Weights w;
  LPU_ASSIGN_OR_RETURN(w.token_embd, matrix(file, "token_embd.weight", c.n_vocab, c.n_embd));
  if (!c.tied_embeddings) {
    LPU_ASSIGN_OR_RETURN(w.output, matrix(file, "output.weight", c.n_vocab, c.n_embd));
  }
  LPU_ASSIGN_OR_RETURN(w.output_norm, vector(file, "output_norm.weight", c.n_embd));
  if (file.find_tensor("rope_freqs.weight") != nullptr) {
    LPU_ASSIGN_OR_RETURN(w.rope_freqs, dequantized(file, "rope_freqs.weight"));
  }
  w.layers.reserve(static_cast<std::size_t>(c.n_layer));
  for (int il = 0; il < c.n_layer; ++il) {
    LPU_ASSIGN_OR_RETURN(LayerWeights l, load_layer(file, c, il));
    w.layers.push_back(std::move(l));
  }
  return w;
}

}  // namespace lpu::reference
