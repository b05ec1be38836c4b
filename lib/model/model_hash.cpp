#include "lib/model/model_hash.h"

#include <cstdint>
#include <cstring>
#include <sstream>

#include "lib/core/sha256.h"

namespace lpu::model {
namespace {

void hash_config(Sha256& h, const ModelConfig& c) {
  std::ostringstream os;
  os << c.architecture << '|' << c.n_vocab << '|' << c.n_embd << '|' << c.n_layer << '|' << c.n_head
     << '|' << c.n_head_kv << '|' << c.head_dim << '|' << c.n_ff << '|' << c.n_ctx_train << '|'
     << c.n_expert << '|' << c.n_expert_used << '|' << c.rope_dim << '|' << c.tied_embeddings;
  h.update(os.str());
  for (float f : {c.rms_eps, c.rope_theta, c.rope_scaling_factor, c.rope_attn_factor}) {
    std::uint32_t bits = 0;
    std::memcpy(&bits, &f, 4);
    h.update(std::to_string(bits) + "|");
  }
}

}  // namespace

std::string config_hash(const ModelConfig& config) {
  Sha256 h;
  hash_config(h, config);
  return h.hex_digest();
}

std::string weights_hash(const gguf::File& file) {
  Sha256 h;
  for (const gguf::TensorInfo& t : file.tensors()) {
    if (t.data != nullptr) h.update(std::span<const std::uint8_t>(t.data, t.n_bytes));
  }
  return h.hex_digest();
}

std::string file_hash(const gguf::File& file, const ModelConfig& config) {
  Sha256 h;
  hash_config(h, config);
  for (const gguf::TensorInfo& t : file.tensors()) {
    h.update(t.name + "|" + std::to_string(static_cast<std::uint32_t>(t.type)) + "|" + t.shape_string() + "\n");
  }
  return h.hex_digest();
}

}  // namespace lpu::model
