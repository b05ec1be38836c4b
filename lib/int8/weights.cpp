#include "lib/int8/weights.h"

#include <cstring>
#include <initializer_list>
#include <string>

#include "lib/gguf/dequantize.h"
#include "lib/model/config_internal.h"
#include "lib/quant/gguf_import.h"

namespace lpu::int8 {
namespace {

using kernels::QuantizedRows;

const gguf::TensorInfo* find(const gguf::File& file, const std::string& name, Status& error) {
  const gguf::TensorInfo* t = file.find_tensor(name);
  if (t == nullptr) error = not_found(file.path() + ": missing tensor '" + name + "'");
  return t;
}

// The tensor as int8 rows: `rows` rows of `k` (all matrices of a 3-D
// tensor stacked).
Result<QuantizedRows> import(const gguf::File& file, const std::string& name, std::size_t rows,
                             std::size_t k, std::size_t group_size) {
  Status error;
  const gguf::TensorInfo* t = find(file, name, error);
  if (t == nullptr) return error;
  LPU_ASSIGN_OR_RETURN(QuantizedRows q,
                       quant::import_tensor(file, *t, quant::QuantConfig{group_size}));
  if (q.rows() != rows || q.k() != k) {
    return internal_error(file.path() + ": tensor '" + name + "' imported as [" +
                          std::to_string(q.rows()) + ", " + std::to_string(q.k()) + "] (expected " +
                          std::to_string(rows) + " rows of " + std::to_string(k) + ")");
  }
  return q;
}

Result<std::vector<float>> floats(const gguf::File& file, const std::string& name, std::size_t n) {
  Status error;
  const gguf::TensorInfo* t = find(file, name, error);
  if (t == nullptr) return error;
  LPU_ASSIGN_OR_RETURN(std::vector<float> v, gguf::dequantize_tensor(file, *t));
  if (v.size() != n) {
    return internal_error(file.path() + ": tensor '" + name + "' has " + std::to_string(v.size()) +
                          " values (expected " + std::to_string(n) + ")");
  }
  return v;
}

// Rows [first, first + count) of a quantised matrix.
struct RowRange {
  const QuantizedRows* q;
  std::size_t first;
  std::size_t count;
};

// The given row ranges one after the other, packed. Rows are copied with
// their scales and sums, so every output channel keeps its exact values.
kernels::PackedWeights pack_rows(std::initializer_list<RowRange> ranges) {
  std::size_t rows = 0;
  for (const RowRange& r : ranges) rows += r.count;
  const QuantizedRows& first = *ranges.begin()->q;
  QuantizedRows out(rows, first.k(), first.group_size());
  std::size_t at = 0;
  for (const RowRange& r : ranges) {
    for (std::size_t i = 0; i < r.count; ++i, ++at) {
      std::memcpy(out.row(at), r.q->row(r.first + i), first.stride());
      std::memcpy(out.scales(at), r.q->scales(r.first + i), first.groups() * sizeof(float));
      std::memcpy(out.sums(at), r.q->sums(r.first + i), first.groups() * sizeof(std::int32_t));
    }
  }
  return kernels::pack_s8_16c4(out);
}

kernels::PackedWeights pack_all(const QuantizedRows& q) { return kernels::pack_s8_16c4(q); }

Result<FfnWeights> dense_ffn(const gguf::File& f, const ModelConfig& c, int il, std::size_t g) {
  const auto d = static_cast<std::size_t>(c.n_embd);
  const auto ff = static_cast<std::size_t>(c.n_ff);
  FfnWeights w;
  {
    LPU_ASSIGN_OR_RETURN(QuantizedRows gate,
                         import(f, model::layer_tensor_name(il, "ffn_gate"), ff, d, g));
    LPU_ASSIGN_OR_RETURN(QuantizedRows up,
                         import(f, model::layer_tensor_name(il, "ffn_up"), ff, d, g));
    w.gate_up = pack_rows({{&gate, 0, ff}, {&up, 0, ff}});
  }
  LPU_ASSIGN_OR_RETURN(QuantizedRows down,
                       import(f, model::layer_tensor_name(il, "ffn_down"), d, ff, g));
  w.down = pack_all(down);
  return w;
}

Status load_experts(const gguf::File& f, const ModelConfig& c, int il, std::size_t g,
                    LayerWeights& l) {
  const auto d = static_cast<std::size_t>(c.n_embd);
  const auto ff = static_cast<std::size_t>(c.n_ff);
  const auto ne = static_cast<std::size_t>(c.n_expert);
  LPU_ASSIGN_OR_RETURN(l.router, floats(f, model::layer_tensor_name(il, "ffn_gate_inp"), ne * d));
  l.experts.resize(ne);
  {
    LPU_ASSIGN_OR_RETURN(QuantizedRows gate,
                         import(f, model::layer_tensor_name(il, "ffn_gate_exps"), ne * ff, d, g));
    LPU_ASSIGN_OR_RETURN(QuantizedRows up,
                         import(f, model::layer_tensor_name(il, "ffn_up_exps"), ne * ff, d, g));
    for (std::size_t e = 0; e < ne; ++e) {
      l.experts[e].gate_up = pack_rows({{&gate, e * ff, ff}, {&up, e * ff, ff}});
    }
  }
  LPU_ASSIGN_OR_RETURN(QuantizedRows down,
                       import(f, model::layer_tensor_name(il, "ffn_down_exps"), ne * d, ff, g));
  for (std::size_t e = 0; e < ne; ++e) l.experts[e].down = pack_rows({{&down, e * d, d}});
  return {};
}

Result<LayerWeights> load_layer(const gguf::File& f, const ModelConfig& c, int il, std::size_t g) {
  const auto d = static_cast<std::size_t>(c.n_embd);
  const auto q = static_cast<std::size_t>(c.n_head) * static_cast<std::size_t>(c.head_dim);
  const auto kv = static_cast<std::size_t>(c.n_head_kv) * static_cast<std::size_t>(c.head_dim);
  auto name = [il](const char* what) { return model::layer_tensor_name(il, what); };
  LayerWeights l;
  LPU_ASSIGN_OR_RETURN(l.attn_norm, floats(f, name("attn_norm"), d));
  LPU_ASSIGN_OR_RETURN(l.ffn_norm, floats(f, name("ffn_norm"), d));
  {
    LPU_ASSIGN_OR_RETURN(QuantizedRows wq, import(f, name("attn_q"), q, d, g));
    LPU_ASSIGN_OR_RETURN(QuantizedRows wk, import(f, name("attn_k"), kv, d, g));
    LPU_ASSIGN_OR_RETURN(QuantizedRows wv, import(f, name("attn_v"), kv, d, g));
    l.qkv = pack_rows({{&wq, 0, q}, {&wk, 0, kv}, {&wv, 0, kv}});
  }
  LPU_ASSIGN_OR_RETURN(QuantizedRows wo, import(f, name("attn_output"), d, q, g));
  l.wo = pack_all(wo);
  if (c.is_moe()) {
    LPU_TRY(load_experts(f, c, il, g, l), "");
  } else {
    LPU_ASSIGN_OR_RETURN(l.ffn, dense_ffn(f, c, il, g));
  }
  return l;
}

Status load_embedding(const gguf::File& file, const ModelConfig& c, Weights& w) {
  Status error;
  const gguf::TensorInfo* t = find(file, "token_embd.weight", error);
  if (t == nullptr) return error;
  const auto row = gguf::row_bytes(t->type, static_cast<std::uint64_t>(c.n_embd));
  if (!t->supported || t->data == nullptr || !row ||
      *row * static_cast<std::uint64_t>(c.n_vocab) != t->n_bytes) {
    return data_loss(file.path() + ": tensor 'token_embd.weight' " + t->shape_string() +
                     " does not hold " + std::to_string(c.n_vocab) + " rows of " +
                     std::to_string(c.n_embd) + " readable values");
  }
  w.embd_type = t->type;
  w.embd_row_bytes = static_cast<std::size_t>(*row);
  w.embd.assign(t->data, t->data + t->n_bytes);
  return {};
}

std::size_t vector_bytes(const std::vector<float>& v) { return v.size() * sizeof(float); }

std::size_t ffn_bytes(const FfnWeights& f) { return f.gate_up.size_bytes() + f.down.size_bytes(); }

}  // namespace

void Weights::embed(TokenId t, std::size_t n_embd, float* out) const {
  gguf::dequantize_row(embd_type, embd.data() + static_cast<std::size_t>(t) * embd_row_bytes, out,
                       n_embd);
}

std::size_t Weights::size_bytes() const {
  std::size_t n =
      embd.size() + lm_head.size_bytes() + vector_bytes(output_norm) + vector_bytes(rope_freqs);
  for (const LayerWeights& l : layers) {
    n += vector_bytes(l.attn_norm) + vector_bytes(l.ffn_norm) + vector_bytes(l.router);
    n += l.qkv.size_bytes() + l.wo.size_bytes() + ffn_bytes(l.ffn);
    for (const FfnWeights& e : l.experts) n += ffn_bytes(e);
  }
  return n;
}

Result<Weights> load_weights(const gguf::File& file, const ModelConfig& c, std::size_t group_size) {
  const auto d = static_cast<std::size_t>(c.n_embd);
  const auto vocab = static_cast<std::size_t>(c.n_vocab);
  Weights w;
  LPU_TRY(load_embedding(file, c, w), "");
  {
    const char* head = c.tied_embeddings ? "token_embd.weight" : "output.weight";
    LPU_ASSIGN_OR_RETURN(QuantizedRows out, import(file, head, vocab, d, group_size));
    w.lm_head = pack_all(out);
  }
  LPU_ASSIGN_OR_RETURN(w.output_norm, floats(file, "output_norm.weight", d));
  if (const gguf::TensorInfo* t = file.find_tensor("rope_freqs.weight"); t != nullptr) {
    LPU_ASSIGN_OR_RETURN(w.rope_freqs, gguf::dequantize_tensor(file, *t));
  }
  w.layers.reserve(static_cast<std::size_t>(c.n_layer));
  for (int il = 0; il < c.n_layer; ++il) {
    LPU_ASSIGN_OR_RETURN(LayerWeights l, load_layer(file, c, il, group_size));
    w.layers.push_back(std::move(l));
  }
  return w;
}

}  // namespace lpu::int8
