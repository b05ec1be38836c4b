// lpu synth --preset NAME --out FILE: writes a synthetic Llama or Mixtral
// shaped GGUF with seeded weights (bit-identical on every machine).
#include <cstdio>
#include <optional>
#include <string>

#include "examples/lpu/command.h"
#include "include/lpu/synth.h"

namespace lpu::cli {
namespace {

struct SynthCliOptions {
  std::string preset = "tiny-dense";
  std::string out;
  std::optional<std::string> type;
  std::optional<std::uint64_t> seed;
  std::optional<int> outlier_channels;
  std::optional<float> outlier_scale;
  std::optional<int> n_vocab, n_embd, n_layer, n_head, n_head_kv, n_ff, n_ctx, n_expert, n_expert_used;
};

template <typename T>
void override_if(const std::optional<T>& v, T& field) {
  if (v) field = *v;
}

Status run_synth(const SynthCliOptions& o) {
  LPU_ASSIGN_OR_RETURN(SynthOptions s, synth_preset(o.preset));
  override_if(o.type, s.weight_type);
  override_if(o.seed, s.seed);
  override_if(o.n_vocab, s.n_vocab);
  override_if(o.n_embd, s.n_embd);
  override_if(o.n_layer, s.n_layer);
  override_if(o.n_head, s.n_head);
  override_if(o.n_head_kv, s.n_head_kv);
  override_if(o.n_ff, s.n_ff);
  override_if(o.n_ctx, s.n_ctx);
  override_if(o.n_expert, s.n_expert);
  override_if(o.n_expert_used, s.n_expert_used);
  override_if(o.outlier_channels, s.outlier_channels);
  override_if(o.outlier_scale, s.outlier_scale);
  LPU_TRY(write_synthetic_model(s, o.out), "");
  std::fprintf(stderr, "wrote %s (preset %s, %s weights, seed %llu)\n", o.out.c_str(), o.preset.c_str(),
               s.weight_type.c_str(), static_cast<unsigned long long>(s.seed));
  return {};
}

}  // namespace

void add_synth_command(CLI::App& app, Action& action) {
  auto o = std::make_shared<SynthCliOptions>();
  CLI::App* cmd = app.add_subcommand("synth", "Write a synthetic Llama/Mixtral-shaped GGUF with seeded weights");
  cmd->add_option("--preset", o->preset, "Shape preset (tiny-dense, tiny-moe, llama-1b, ...)");
  cmd->add_option("--out,-o", o->out, "Output GGUF path")->required();
  cmd->add_option("--type", o->type, "Weight type: f32, f16 or q8_0");
  cmd->add_option("--seed", o->seed, "Seed of the weight generator");
  cmd->add_option("--vocab", o->n_vocab, "Vocabulary size");
  cmd->add_option("--embd", o->n_embd, "Embedding width");
  cmd->add_option("--layers", o->n_layer, "Number of layers");
  cmd->add_option("--heads", o->n_head, "Attention heads");
  cmd->add_option("--kv-heads", o->n_head_kv, "Key/value heads");
  cmd->add_option("--ff", o->n_ff, "Feed-forward width");
  cmd->add_option("--ctx", o->n_ctx, "Training context length");
  cmd->add_option("--experts", o->n_expert, "Experts per MoE layer (0: dense)");
  cmd->add_option("--experts-used", o->n_expert_used, "Experts chosen per token");
  cmd->add_option("--outlier-channels", o->outlier_channels,
                  "Plant activation outliers: this many residual channels whose layer norms are scaled (default 0)");
  cmd->add_option("--outlier-scale", o->outlier_scale, "Scale of the planted outlier channels' norm weights (default 40)");
  cmd->callback([&action, o] { action = [o] { return run_synth(*o); }; });
}

}  // namespace lpu::cli
