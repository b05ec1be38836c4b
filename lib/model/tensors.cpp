// The tensors architecture "llama" reads, with their GGML shapes, and the
// check of a file's tensors against them.
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "lib/gguf/tensor_type.h"
#include "lib/model/config_internal.h"

namespace lpu::model {

std::string layer_tensor_name(int layer, const char* what) {
  return "blk." + std::to_string(layer) + "." + what + ".weight";
}

namespace {

std::string shape_of(const std::vector<std::uint64_t>& dims) {
  std::string s = "[";
  for (std::size_t i = 0; i < dims.size(); ++i) {
    if (i != 0) s += ", ";
    s += std::to_string(dims[i]);
  }
  return s + "]";
}

void add_layer(std::vector<ExpectedTensor>& out, const ModelConfig& c, int il) {
  const auto d = static_cast<std::uint64_t>(c.n_embd);
  const auto q = static_cast<std::uint64_t>(c.n_head) * c.head_dim;
  const auto kv = static_cast<std::uint64_t>(c.n_head_kv) * c.head_dim;
  const auto ff = static_cast<std::uint64_t>(c.n_ff);
  const auto ne = static_cast<std::uint64_t>(c.n_expert);
  auto add = [&](const char* what, std::vector<std::uint64_t> dims, const char* meaning) {
    out.push_back({layer_tensor_name(il, what), std::move(dims), meaning, true});
  };
  add("attn_norm", {d}, "n_embd");
  add("attn_q", {d, q}, "n_embd, n_head*head_dim");
  add("attn_k", {d, kv}, "n_embd, n_head_kv*head_dim");
  add("attn_v", {d, kv}, "n_embd, n_head_kv*head_dim");
  add("attn_output", {q, d}, "n_head*head_dim, n_embd");
  add("ffn_norm", {d}, "n_embd");
  if (c.is_moe()) {
    add("ffn_gate_inp", {d, ne}, "n_embd, n_expert");
    add("ffn_gate_exps", {d, ff, ne}, "n_embd, n_ff, n_expert");
    add("ffn_up_exps", {d, ff, ne}, "n_embd, n_ff, n_expert");
    add("ffn_down_exps", {ff, d, ne}, "n_ff, n_embd, n_expert");
  } else {
    add("ffn_gate", {d, ff}, "n_embd, n_ff");
    add("ffn_up", {d, ff}, "n_embd, n_ff");
    add("ffn_down", {ff, d}, "n_ff, n_embd");
  }
}

}  // namespace

std::vector<ExpectedTensor> expected_tensors(const ModelConfig& c) {
  const auto d = static_cast<std::uint64_t>(c.n_embd);
  const auto v = static_cast<std::uint64_t>(c.n_vocab);
  std::vector<ExpectedTensor> out;
  out.push_back({"token_embd.weight", {d, v}, "n_embd, n_vocab", true});
  out.push_back({"output_norm.weight", {d}, "n_embd", true});
  if (!c.tied_embeddings) out.push_back({"output.weight", {d, v}, "n_embd, n_vocab", true});
  // Llama-3.1-style per-frequency RoPE divisors, shared by every layer.
  out.push_back(
      {"rope_freqs.weight", {static_cast<std::uint64_t>(c.rope_dim / 2)}, "rope_dim/2", false});
  for (int il = 0; il < c.n_layer; ++il) add_layer(out, c, il);
  return out;
}

Status check_model_tensors(const gguf::File& file, const ModelConfig& config) {
  const std::vector<ExpectedTensor> expected = expected_tensors(config);
  std::unordered_map<std::string, const ExpectedTensor*> by_name;
  by_name.reserve(expected.size());
  for (const ExpectedTensor& e : expected) by_name.emplace(e.name, &e);

  std::unordered_set<std::string> present;
  for (const gguf::TensorInfo& t : file.tensors()) {
    present.insert(t.name);
    const auto it = by_name.find(t.name);
    if (it == by_name.end()) {
      return unimplemented(
          file.path() + ": tensor '" + t.name + "' " + t.shape_string() +
          " is not used by architecture llama with this configuration "
          "(biases, fused or per-expert tensors are not supported" +
          std::string(config.is_moe() ? "" : "; expert tensors need llama.expert_count") + ")");
    }
    const ExpectedTensor& e = *it->second;
    if (t.dims != e.dims) {
      return invalid_argument(file.path() + ": tensor '" + t.name + "' has shape " +
                              t.shape_string() + " (expected " + shape_of(e.dims) + ": " +
                              e.meaning + ")");
    }
    if (!t.supported) {
      const auto id = static_cast<std::uint32_t>(t.type);
      return unimplemented(
          file.path() + ": tensor '" + t.name + "': type " + std::string(gguf::type_name(id)) +
          " (id " + std::to_string(id) +
          ") is not supported (supported: " + std::string(gguf::supported_type_list()) + ")");
    }
  }
  for (const ExpectedTensor& e : expected) {
    if (e.required && present.count(e.name) == 0) {
      return not_found(file.path() + ": missing tensor '" + e.name + "' (expected " +
                       shape_of(e.dims) + ": " + e.meaning + ")");
    }
  }
  return {};
}

}  // namespace lpu::model
