#include "lib/quant/weight_transform.h"

#include <string>
#include <vector>

#include "lib/gguf/dequantize.h"

namespace lpu::quant {
namespace {

// "blk.<layer>.<rest>" -> rest, or the whole name.
std::string_view block_rest(std::string_view name) {
  std::string_view rest;
  return block_of(name, rest) < 0 ? name : rest;
}

std::string_view block_prefix(std::string_view name) {
  return name.substr(0, name.size() - block_rest(name).size());
}

// The norm a reader folds in: its layer's attn_norm or ffn_norm, or
// output_norm for the head; empty for tensors that read no norm.
std::string norm_of(std::string_view name) {
  const std::string_view rest = block_rest(name);
  const std::string prefix(block_prefix(name));
  if (rest == "attn_q.weight" || rest == "attn_k.weight" || rest == "attn_v.weight") return prefix + "attn_norm.weight";
  if (rest == "ffn_gate.weight" || rest == "ffn_up.weight" || rest == "ffn_gate_exps.weight" ||
      rest == "ffn_up_exps.weight" || rest == "ffn_gate_inp.weight") {
    return prefix + "ffn_norm.weight";
  }
  if (name == "output.weight" || name == "token_embd.weight") return "output_norm.weight";
  return {};
}

bool writes_the_stream(std::string_view name) {
  const std::string_view rest = block_rest(name);
  return rest == "attn_output.weight" || rest == "ffn_down.weight" || rest == "ffn_down_exps.weight";
}

bool is_layer_norm(std::string_view name) {
  const std::string_view rest = block_rest(name);
  return rest == "attn_norm.weight" || rest == "ffn_norm.weight" || name == "output_norm.weight";
}

void rotate_columns(const HadamardRotation& r, std::span<float> values, std::size_t rows, std::size_t k) {
  std::vector<float> column(rows);
  for (std::size_t j = 0; j < k; ++j) {
    for (std::size_t i = 0; i < rows; ++i) column[i] = values[i * k + j];
    r.rotate(column);
    for (std::size_t i = 0; i < rows; ++i) values[i * k + j] = column[i];
  }
}

}  // namespace

void TensorTransform::apply_row(std::size_t r, std::span<float> row) const {
  if (ones) {
    for (float& v : row) v = 1.0f;
    return;
  }
  if (!scaling.empty()) scaling.apply(r, row.data(), row.size());
  if (rotate == Rotate::kRows) rotation->rotate(row);
}

void TensorTransform::apply(std::span<float> values, std::size_t rows, std::size_t k) const {
  if (!needs_whole_matrix()) {
    for (std::size_t r = 0; r < rows; ++r) apply_row(r, values.subspan(r * k, k));
    return;
  }
  for (std::size_t r = 0; r < rows; ++r) scaling.apply(r, values.data() + r * k, k);
  rotate_columns(*rotation, values, rows, k);
}

Result<TensorTransform> tensor_transform(const gguf::File& file, const ModelTransform& t, std::string_view name) {
  TensorTransform out;
  if (t.smoothing) out.scaling = tensor_scaling(*t.config, *t.smoothing, name);
  if (!t.rotation) return out;
  out.rotation = &*t.rotation;
  if (is_layer_norm(name)) {
    out.ones = true;
    return out;
  }
  if (writes_the_stream(name)) {
    out.rotate = TensorTransform::Rotate::kColumns;
    return out;
  }
  const std::string norm = norm_of(name);
  if (norm.empty()) return out;
  // A reader: its columns take the norm (smoothed: g / s, exact), then x R.
  const gguf::TensorInfo* g = file.find_tensor(norm);
  if (g == nullptr) return not_found(file.path() + ": tensor '" + norm + "' (the norm " + std::string(name) + " reads)");
  LPU_ASSIGN_OR_RETURN(std::vector<float> gv, gguf::dequantize_tensor(file, *g));
  if (gv.size() != static_cast<std::size_t>(t.config->n_embd)) {
    return invalid_argument(file.path() + ": tensor '" + norm + "' has " + std::to_string(gv.size()) +
                            " values (expected n_embd = " + std::to_string(t.config->n_embd) + ")");
  }
  const TensorScaling norm_scaling = t.smoothing ? tensor_scaling(*t.config, *t.smoothing, norm) : TensorScaling{};
  if (!norm_scaling.empty()) norm_scaling.apply(0, gv.data(), gv.size());
  if (out.scaling.columns.empty()) out.scaling.columns.assign(gv.size(), 1.0f);
  // (w s) g' rounds once, as w (s g') does: s is a power of two.
  for (std::size_t j = 0; j < gv.size(); ++j) out.scaling.columns[j] *= gv[j];
  out.rotate = TensorTransform::Rotate::kRows;
  return out;
}

gguf::TensorType rotated_embedding_type(std::size_t n_embd) {
  return n_embd % 32 == 0 ? gguf::TensorType::kQ8_0 : gguf::TensorType::kF32;
}

TensorTransform embedding_transform(const ModelTransform& t) {
  TensorTransform out;
  if (t.rotation) {
    out.rotation = &*t.rotation;
    out.rotate = TensorTransform::Rotate::kRows;
  }
  return out;
}

}  // namespace lpu::quant
