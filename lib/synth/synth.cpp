// Synthetic Llama / Mixtral GGUF files (include/lpu/synth.h).
#include "include/lpu/synth.h"

#include <cmath>
#include <functional>

#include "lib/gguf/writer.h"
#include "lib/synth/vocab.h"
#include "lib/synth/weights.h"

namespace lpu {
namespace {

using gguf::TensorType;

// general.file_type values (llama.cpp's LLAMA_FTYPE_*).
constexpr std::uint32_t kFileTypeAllF32 = 0;
constexpr std::uint32_t kFileTypeMostlyF16 = 1;
constexpr std::uint32_t kFileTypeMostlyQ8_0 = 7;
constexpr std::uint32_t kQuantizationVersion = 2;
// Norm weights are 1 + N(0, kNormStddev^2): near 1, but not all equal, so a
// kernel that skips the multiply is caught.
constexpr double kNormStddev = 0.05;

struct Preset {
  std::string_view name;
  SynthOptions (*make)();
};

SynthOptions tiny_dense() { return SynthOptions{}; }

SynthOptions tiny_moe() {
  SynthOptions o;
  o.n_expert = 4;
  o.n_expert_used = 2;
  return o;
}

// TinyLlama-1.1B's shape.
SynthOptions llama_1b() {
  SynthOptions o;
  o.n_vocab = 32000;
  o.n_embd = 2048;
  o.n_layer = 22;
  o.n_head = 32;
  o.n_head_kv = 4;
  o.n_ff = 5632;
  o.n_ctx = 2048;
  o.weight_type = "q8_0";
  return o;
}

// Mixtral's layout (8 experts, top-2, GQA, rope base 1e6) scaled to ~1B.
SynthOptions mixtral_1b() {
  SynthOptions o;
  o.n_vocab = 32000;
  o.n_embd = 1024;
  o.n_layer = 12;
  o.n_head = 16;
  o.n_head_kv = 4;
  o.n_ff = 2816;
  o.n_ctx = 2048;
  o.n_expert = 8;
  o.n_expert_used = 2;
  o.rope_theta = 1e6f;
  o.weight_type = "q8_0";
  return o;
}

constexpr Preset kPresets[] = {{"tiny-dense", tiny_dense},
                               {"tiny-moe", tiny_moe},
                               {"llama-1b", llama_1b},
                               {"mixtral-1b", mixtral_1b}};

Result<TensorType> weight_type_of(const std::string& name) {
  if (name == "f32") return TensorType::kF32;
  if (name == "f16") return TensorType::kF16;
  if (name == "q8_0") return TensorType::kQ8_0;
  return invalid_argument("weight_type '" + name + "' (expected f32, f16 or q8_0)");
}

std::uint32_t file_type_of(TensorType t) {
  if (t == TensorType::kF16) return kFileTypeMostlyF16;
  if (t == TensorType::kQ8_0) return kFileTypeMostlyQ8_0;
  return kFileTypeAllF32;
}

Status positive(const char* field, int v) {
  if (v > 0) return {};
  return invalid_argument(std::string(field) + " is " + std::to_string(v) + " (expected > 0)");
}

// One tensor of the model: name, GGML dims, whether it is a matrix (stored
// as weight_type) or a norm/router (F32), and its initialisation.
struct TensorSpec {
  std::string name;
  std::vector<std::uint64_t> dims;
  bool matrix;
  synth::WeightInit init;
};

std::vector<TensorSpec> tensor_specs(const SynthOptions& o) {
  const auto u = [](int v) { return static_cast<std::uint64_t>(v); };
  const std::uint64_t embd = u(o.n_embd), ff = u(o.n_ff), head = embd / u(o.n_head);
  const std::uint64_t kv = head * u(o.n_head_kv);
  const auto mat = [](std::string name, std::vector<std::uint64_t> dims) {
    const double fan_in = static_cast<double>(dims[0]);
    return TensorSpec{std::move(name), std::move(dims), true, {0.0, 1.0 / std::sqrt(fan_in)}};
  };
  const auto norm = [](std::string name, std::uint64_t n) {
    return TensorSpec{std::move(name), {n}, false, {1.0, kNormStddev}};
  };
  // Planted outliers: the layers' norms scale every (embd / channels)-th
  // residual channel, so the matrices reading them see outlier inputs.
  const auto layer_norm = [&](std::string name, std::uint64_t n) {
    TensorSpec t = norm(std::move(name), n);
    if (o.outlier_channels > 0) {
      t.init.outlier_every = n / u(o.outlier_channels);
      t.init.outlier_scale = o.outlier_scale;
    }
    return t;
  };
  std::vector<TensorSpec> specs;
  specs.push_back(mat("token_embd.weight", {embd, u(o.n_vocab)}));
  specs.push_back(norm("output_norm.weight", embd));
  if (!o.tied_embeddings) specs.push_back(mat("output.weight", {embd, u(o.n_vocab)}));
  for (int l = 0; l < o.n_layer; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    specs.push_back(layer_norm(p + "attn_norm.weight", embd));
    specs.push_back(mat(p + "attn_q.weight", {embd, head * u(o.n_head)}));
    specs.push_back(mat(p + "attn_k.weight", {embd, kv}));
    specs.push_back(mat(p + "attn_v.weight", {embd, kv}));
    specs.push_back(mat(p + "attn_output.weight", {head * u(o.n_head), embd}));
    specs.push_back(layer_norm(p + "ffn_norm.weight", embd));
    if (o.n_expert > 0) {
      const std::uint64_t ne = u(o.n_expert);
      TensorSpec router = mat(p + "ffn_gate_inp.weight", {embd, ne});
      router.matrix = false;  // the router stays F32, as llama.cpp keeps it
      specs.push_back(std::move(router));
      specs.push_back(mat(p + "ffn_gate_exps.weight", {embd, ff, ne}));
      specs.push_back(mat(p + "ffn_down_exps.weight", {ff, embd, ne}));
      specs.push_back(mat(p + "ffn_up_exps.weight", {embd, ff, ne}));
    } else {
      specs.push_back(mat(p + "ffn_gate.weight", {embd, ff}));
      specs.push_back(mat(p + "ffn_down.weight", {ff, embd}));
      specs.push_back(mat(p + "ffn_up.weight", {embd, ff}));
    }
  }
  return specs;
}

void set_hparams(const SynthOptions& o, TensorType wtype, gguf::Writer& w) {
  const auto u = [](int v) { return static_cast<std::uint32_t>(v); };
  w.set_string("general.architecture", "llama");
  w.set_string("general.name", "lpu-synth");
  w.set_u32("general.file_type", file_type_of(wtype));
  w.set_u32("general.quantization_version", kQuantizationVersion);
  w.set_u64("lpu.synth.seed", o.seed);
  w.set_u32("llama.vocab_size", u(o.n_vocab));
  w.set_u32("llama.context_length", u(o.n_ctx));
  w.set_u32("llama.embedding_length", u(o.n_embd));
  w.set_u32("llama.block_count", u(o.n_layer));
  w.set_u32("llama.feed_forward_length", u(o.n_ff));
  w.set_u32("llama.rope.dimension_count", u(o.n_embd / o.n_head));
  w.set_u32("llama.attention.head_count", u(o.n_head));
  w.set_u32("llama.attention.head_count_kv", u(o.n_head_kv));
  w.set_f32("llama.attention.layer_norm_rms_epsilon", o.rms_eps);
  w.set_f32("llama.rope.freq_base", o.rope_theta);
  w.set_u32("llama.expert_count", u(o.n_expert));
  w.set_u32("llama.expert_used_count", u(o.n_expert_used));
}

void set_tokenizer(const synth::Vocab& v, gguf::Writer& w) {
  w.set_string("tokenizer.ggml.model", "llama");
  w.set_string_array("tokenizer.ggml.tokens", v.tokens);
  w.set_f32_array("tokenizer.ggml.scores", v.scores);
  w.set_i32_array("tokenizer.ggml.token_type", v.types);
  w.set_u32("tokenizer.ggml.unknown_token_id", synth::kUnkId);
  w.set_u32("tokenizer.ggml.bos_token_id", synth::kBosId);
  w.set_u32("tokenizer.ggml.eos_token_id", synth::kEosId);
  w.set_bool("tokenizer.ggml.add_bos_token", true);
  w.set_bool("tokenizer.ggml.add_eos_token", false);
}

}  // namespace

Result<SynthOptions> synth_preset(std::string_view name) {
  for (const Preset& p : kPresets) {
    if (p.name == name) return p.make();
  }
  std::string names;
  for (const Preset& p : kPresets) names += (names.empty() ? "" : ", ") + std::string(p.name);
  return not_found("unknown synthetic model preset '" + std::string(name) +
                   "' (expected one of: " + names + ")");
}

std::vector<std::string> synth_preset_names() {
  std::vector<std::string> out;
  for (const Preset& p : kPresets) out.emplace_back(p.name);
  return out;
}

Status validate_synth_options(const SynthOptions& o) {
  if (o.arch != "llama") return unimplemented("arch '" + o.arch + "' (expected llama)");
  LPU_TRY(positive("n_embd", o.n_embd), "");
  LPU_TRY(positive("n_layer", o.n_layer), "");
  LPU_TRY(positive("n_head", o.n_head), "");
  LPU_TRY(positive("n_head_kv", o.n_head_kv), "");
  LPU_TRY(positive("n_ff", o.n_ff), "");
  LPU_TRY(positive("n_ctx", o.n_ctx), "");
  if (o.outlier_channels < 0 || o.outlier_channels > o.n_embd) {
    return invalid_argument("outlier_channels is " + std::to_string(o.outlier_channels) +
                            " (expected 0 to n_embd = " + std::to_string(o.n_embd) + ")");
  }
  if (!(o.outlier_scale > 0.0f) || !std::isfinite(o.outlier_scale)) {
    return invalid_argument("outlier_scale is " + std::to_string(o.outlier_scale) + " (expected a finite value > 0)");
  }
  if (o.n_vocab < synth::kMinVocab || o.n_vocab > synth::kMaxVocab) {
    return invalid_argument("n_vocab is " + std::to_string(o.n_vocab) + " (expected " +
                            std::to_string(synth::kMinVocab) + ".." +
                            std::to_string(synth::kMaxVocab) + ")");
  }
  if (o.n_embd % o.n_head != 0 || (o.n_embd / o.n_head) % 2 != 0) {
    return invalid_argument("n_embd " + std::to_string(o.n_embd) + " / n_head " +
                            std::to_string(o.n_head) +
                            " (expected an even head size dividing n_embd)");
  }
  if (o.n_head % o.n_head_kv != 0) {
    return invalid_argument("n_head_kv " + std::to_string(o.n_head_kv) +
                            " (expected a divisor of n_head " + std::to_string(o.n_head) + ")");
  }
  if (o.n_expert < 0 || (o.n_expert == 0 && o.n_expert_used != 0) ||
      (o.n_expert > 0 && (o.n_expert_used < 1 || o.n_expert_used > o.n_expert))) {
    return invalid_argument("n_expert " + std::to_string(o.n_expert) + ", n_expert_used " +
                            std::to_string(o.n_expert_used) +
                            " (expected 0 and 0, or 1 <= n_expert_used <= n_expert)");
  }
  if (!(o.rope_theta > 0.0f) || !std::isfinite(o.rope_theta) || !(o.rms_eps > 0.0f) ||
      !std::isfinite(o.rms_eps)) {
    return invalid_argument("rope_theta and rms_eps must be positive and finite");
  }
  LPU_ASSIGN_OR_RETURN(const TensorType t, weight_type_of(o.weight_type));
  if (t == TensorType::kQ8_0 && (o.n_embd % 32 != 0 || o.n_ff % 32 != 0)) {
    return invalid_argument("weight_type q8_0 needs n_embd and n_ff to be multiples of 32 (got " +
                            std::to_string(o.n_embd) + " and " + std::to_string(o.n_ff) + ")");
  }
  return {};
}

std::uint64_t synth_parameter_count(const SynthOptions& options) {
  std::uint64_t n = 0;
  for (const auto& spec : tensor_specs(options)) {
    std::uint64_t e = 1;
    for (std::uint64_t d : spec.dims) e *= d;
    n += e;
  }
  return n;
}

Status write_synthetic_model(const SynthOptions& o, const std::string& path) {
  LPU_TRY(validate_synth_options(o), path + ": synthetic model options");
  LPU_ASSIGN_OR_RETURN(const TensorType wtype, weight_type_of(o.weight_type));
  LPU_ASSIGN_OR_RETURN(const synth::Vocab vocab, synth::build_vocab(o.n_vocab));
  gguf::Writer w;
  set_hparams(o, wtype, w);
  set_tokenizer(vocab, w);
  for (TensorSpec& spec : tensor_specs(o)) {
    const TensorType type = spec.matrix ? wtype : TensorType::kF32;
    std::uint64_t n = 1;
    for (std::uint64_t d : spec.dims) n *= d;
    auto fill = [seed = o.seed, name = spec.name, init = spec.init, type,
                 n](std::span<std::uint8_t> out) {
      return synth::fill_tensor(seed, name, init, type, n, out);
    };
    LPU_TRY(w.add_tensor_lazy(spec.name, std::move(spec.dims), type, std::move(fill)), path);
  }
  return w.write(path);
}

}  // namespace lpu
