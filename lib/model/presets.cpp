// Config-only shapes of published models, for compile-time and simulated
// timing work without weights. Figures are the models' published
// hyper-parameters (their Hugging Face config.json files).
#include <array>
#include <string>

#include "include/lpu/model.h"

namespace lpu {
namespace {

struct Preset {
  std::string_view name;
  int n_vocab, n_embd, n_layer, n_head, n_head_kv, n_ff, n_ctx_train, n_expert, n_expert_used;
  float rope_theta;
};

constexpr std::array<Preset, 5> kPresets = {{
    {"llama-2-7b", 32000, 4096, 32, 32, 32, 11008, 4096, 0, 0, 10000.0f},
    {"llama-2-70b", 32000, 8192, 80, 64, 8, 28672, 4096, 0, 0, 10000.0f},
    {"llama-3-8b", 128256, 4096, 32, 32, 8, 14336, 8192, 0, 0, 500000.0f},
    {"llama-3-70b", 128256, 8192, 80, 64, 8, 28672, 8192, 0, 0, 500000.0f},
    {"mixtral-8x7b", 32000, 4096, 32, 32, 8, 14336, 32768, 8, 2, 1000000.0f},
}};

ModelConfig to_config(const Preset& p) {
  ModelConfig c;
  c.architecture = "llama";
  c.name = std::string(p.name);
  c.n_vocab = p.n_vocab;
  c.n_embd = p.n_embd;
  c.n_layer = p.n_layer;
  c.n_head = p.n_head;
  c.n_head_kv = p.n_head_kv;
  c.head_dim = p.n_embd / p.n_head;
  c.n_ff = p.n_ff;
  c.n_ctx_train = p.n_ctx_train;
  c.n_expert = p.n_expert;
  c.n_expert_used = p.n_expert_used;
  c.rms_eps = 1e-5f;
  c.rope_theta = p.rope_theta;
  c.rope_dim = c.head_dim;
  c.rope_scaling = RopeScalingType::kNone;
  c.rope_scaling_factor = 1.0f;
  c.rope_orig_ctx = p.n_ctx_train;
  c.tied_embeddings = false;
  return c;
}

}  // namespace

Result<ModelConfig> shape_preset(std::string_view name) {
  for (const Preset& p : kPresets) {
    if (p.name == name) return to_config(p);
  }
  std::string known;
  for (const Preset& p : kPresets) known += (known.empty() ? "" : ", ") + std::string(p.name);
  return not_found("unknown shape preset '" + std::string(name) + "' (expected one of: " + known +
                   ")");
}

std::vector<std::string> shape_preset_names() {
  std::vector<std::string> names;
  for (const Preset& p : kPresets) names.emplace_back(p.name);
  return names;
}

}  // namespace lpu
