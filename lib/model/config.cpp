// ModelConfig from GGUF metadata (architecture "llama": Llama 1/2/3,
// Mistral-style and Mixtral-style models stored under that architecture).
#include <cmath>
#include <optional>
#include <string>

#include "include/lpu/model.h"
#include "lib/gguf/file.h"
#include "lib/model/config_internal.h"

namespace lpu {

std::string_view rope_scaling_type_name(RopeScalingType type) {
  switch (type) {
    case RopeScalingType::kNone:
      return "none";
    case RopeScalingType::kLinear:
      return "linear";
    case RopeScalingType::kYarn:
      return "yarn";
  }
  return "unknown";
}

namespace model {
namespace {

constexpr std::string_view kArchitecture = "llama";
// Upper bounds keep every derived product far from overflow; they are well
// above any published model.
constexpr std::int64_t kMaxWidth = 1 << 20;
constexpr std::int64_t kMaxLayers = 4096;
constexpr std::int64_t kMaxHeads = 16384;
constexpr std::int64_t kMaxContext = 1 << 30;
constexpr std::int64_t kMaxExperts = 512;
constexpr std::int64_t kMaxVocab = 1 << 24;

// Typed access to "llama.*" keys with range checks and messages that name
// the file, the key and what was expected.
class Meta {
 public:
  explicit Meta(const gguf::File& f) : f_(f) {}

  std::string key(std::string_view suffix) const {
    return std::string(kArchitecture) + "." + std::string(suffix);
  }

  Status bad(std::string_view suffix, const std::string& what) const {
    return invalid_argument(f_.path() + ": key '" + key(suffix) + "' " + what);
  }

  // Integer in [lo, hi]; `fallback` when the key is absent (required when
  // there is none).
  Result<int> count(std::string_view suffix, std::string_view meaning, std::int64_t lo,
                    std::int64_t hi, std::optional<std::int64_t> fallback = std::nullopt) const {
    const std::string k = key(suffix);
    if (f_.find(k) == nullptr) {
      if (fallback) return static_cast<int>(*fallback);
      return not_found(f_.path() + ": missing key '" + k + "' (" + std::string(meaning) +
                       ", required for architecture llama)");
    }
    LPU_ASSIGN_OR_RETURN(const std::int64_t v, f_.get_int(k));
    if (v < lo || v > hi) {
      return out_of_range(f_.path() + ": key '" + k + "' is " + std::to_string(v) + " (expected " +
                          std::to_string(lo) + ".." + std::to_string(hi) + ": " +
                          std::string(meaning) + ")");
    }
    return static_cast<int>(v);
  }

  // Finite float > 0 (or >= 0 when `allow_zero`); `fallback` when absent.
  Result<float> real(std::string_view suffix, std::string_view meaning,
                     std::optional<double> fallback, bool allow_zero = false) const {
    const std::string k = key(suffix);
    if (f_.find(k) == nullptr) {
      if (fallback) return static_cast<float>(*fallback);
      return not_found(f_.path() + ": missing key '" + k + "' (" + std::string(meaning) +
                       ", required for architecture llama)");
    }
    LPU_ASSIGN_OR_RETURN(const double v, f_.get_float(k));
    const auto x = static_cast<float>(v);
    if (!std::isfinite(x) || x < 0.0f || (x == 0.0f && !allow_zero)) {
      return out_of_range(f_.path() + ": key '" + k + "' is " + std::to_string(v) +
                          " (expected a finite value " + (allow_zero ? ">= 0" : "> 0") + ": " +
                          std::string(meaning) + ")");
    }
    return x;
  }

  const gguf::File& file() const { return f_; }

 private:
  const gguf::File& f_;
};

Status read_architecture(const gguf::File& f, ModelConfig& c) {
  LPU_ASSIGN_OR_RETURN(c.architecture, f.get_string("general.architecture"));
  if (c.architecture != kArchitecture) {
    return unimplemented(f.path() + ": key 'general.architecture' is '" + c.architecture +
                         "' (expected 'llama'; other architectures are not supported)");
  }
  if (f.find("general.name") != nullptr) {
    LPU_ASSIGN_OR_RETURN(c.name, f.get_string("general.name"));
  }
  return {};
}

Status read_attention_shape(const Meta& m, ModelConfig& c) {
  LPU_ASSIGN_OR_RETURN(c.n_embd, m.count("embedding_length", "model width", 1, kMaxWidth));
  LPU_ASSIGN_OR_RETURN(c.n_layer, m.count("block_count", "number of layers", 1, kMaxLayers));
  LPU_ASSIGN_OR_RETURN(c.n_head,
                       m.count("attention.head_count", "number of query heads", 1, kMaxHeads));
  LPU_ASSIGN_OR_RETURN(c.n_head_kv, m.count("attention.head_count_kv", "number of key/value heads",
                                            1, kMaxHeads, c.n_head));
  if (c.n_head_kv > c.n_head || c.n_head % c.n_head_kv != 0) {
    return m.bad("attention.head_count_kv",
                 "is " + std::to_string(c.n_head_kv) + " (expected a divisor of " +
                     m.key("attention.head_count") + " = " + std::to_string(c.n_head) + ")");
  }
  const bool has_key_length = m.file().find(m.key("attention.key_length")) != nullptr;
  if (!has_key_length && c.n_embd % c.n_head != 0) {
    return m.bad("attention.head_count",
                 "is " + std::to_string(c.n_head) + ", which does not divide " +
                     m.key("embedding_length") + " = " + std::to_string(c.n_embd) +
                     " (expected a divisor, or an explicit " + m.key("attention.key_length") + ")");
  }
  LPU_ASSIGN_OR_RETURN(c.head_dim, m.count("attention.key_length", "width of one attention head", 1,
                                           kMaxWidth, c.n_embd / c.n_head));
  LPU_ASSIGN_OR_RETURN(
      const int value_length,
      m.count("attention.value_length", "width of one value head", 1, kMaxWidth, c.head_dim));
  if (value_length != c.head_dim) {
    return unimplemented(m.file().path() + ": key '" + m.key("attention.value_length") + "' is " +
                         std::to_string(value_length) + " but key_length is " +
                         std::to_string(c.head_dim) + " (expected them equal)");
  }
  if (static_cast<std::int64_t>(c.n_head) * c.head_dim > kMaxWidth) {
    return m.bad("attention.head_count",
                 "times the head width exceeds " + std::to_string(kMaxWidth));
  }
  if (m.file().find(m.key("attention.scale")) != nullptr) {
    LPU_ASSIGN_OR_RETURN(const float scale,
                         m.real("attention.scale", "attention logit scale", 0.0, true));
    if (scale != 0.0f) {
      return unimplemented(m.file().path() + ": key '" + m.key("attention.scale") +
                           "' is set (expected absent or 0: only 1/sqrt(head_dim) is supported)");
    }
  }
  return {};
}

Status read_ffn_shape(const Meta& m, ModelConfig& c) {
  LPU_ASSIGN_OR_RETURN(c.n_ctx_train,
                       m.count("context_length", "training context length", 1, kMaxContext));
  LPU_ASSIGN_OR_RETURN(
      c.n_ff, m.count("feed_forward_length", "feed-forward hidden width", 1, kMaxWidth * 4));
  LPU_ASSIGN_OR_RETURN(c.n_expert,
                       m.count("expert_count", "experts per MoE layer", 0, kMaxExperts, 0));
  LPU_ASSIGN_OR_RETURN(c.n_expert_used,
                       m.count("expert_used_count", "experts used per token", 0, kMaxExperts, 0));
  if (c.n_expert == 0 && c.n_expert_used != 0) {
    return m.bad("expert_used_count", "is " + std::to_string(c.n_expert_used) + " but " +
                                          m.key("expert_count") + " is absent or 0 (expected 0)");
  }
  if (c.n_expert > 0 && (c.n_expert_used < 1 || c.n_expert_used > c.n_expert)) {
    return m.bad("expert_used_count", "is " + std::to_string(c.n_expert_used) + " (expected 1.." +
                                          std::to_string(c.n_expert) + ": at most " +
                                          m.key("expert_count") + ")");
  }
  return {};
}

// llama.cpp's defaults: scaling type "linear" with factor 1 when unset; the
// factor may also sit under the older key rope.scale_linear.
Status read_rope_scaling(const Meta& m, ModelConfig& c) {
  std::string type = "linear";
  if (m.file().find(m.key("rope.scaling.type")) != nullptr) {
    LPU_ASSIGN_OR_RETURN(type, m.file().get_string(m.key("rope.scaling.type")));
  }
  const char* factor_key = m.file().find(m.key("rope.scaling.factor")) != nullptr
                               ? "rope.scaling.factor"
                               : "rope.scale_linear";
  LPU_ASSIGN_OR_RETURN(float factor, m.real(factor_key, "RoPE context scaling factor", 0.0, true));
  if (factor == 0.0f) factor = 1.0f;
  if (type == "none") {
    c.rope_scaling = RopeScalingType::kNone;
    factor = 1.0f;
  } else if (type == "linear") {
    c.rope_scaling = factor == 1.0f ? RopeScalingType::kNone : RopeScalingType::kLinear;
  } else if (type == "yarn") {
    c.rope_scaling = RopeScalingType::kYarn;
  } else {
    return unimplemented(m.file().path() + ": key '" + m.key("rope.scaling.type") + "' is '" +
                         type + "' (supported: none, linear, yarn)");
  }
  c.rope_scaling_factor = factor;
  LPU_ASSIGN_OR_RETURN(c.rope_orig_ctx,
                       m.count("rope.scaling.original_context_length",
                               "context length YaRN corrects for", 1, kMaxContext, c.n_ctx_train));
  LPU_ASSIGN_OR_RETURN(c.rope_attn_factor,
                       m.real("rope.scaling.attn_factor", "RoPE attention factor", 1.0));
  LPU_ASSIGN_OR_RETURN(const float log_mul, m.real("rope.scaling.yarn_log_multiplier",
                                                   "YaRN log multiplier", 0.0, true));
  if (log_mul != 0.0f) {
    return unimplemented(m.file().path() + ": key '" + m.key("rope.scaling.yarn_log_multiplier") +
                         "' is set (expected absent or 0 for architecture llama)");
  }
  return {};
}

Status read_norm_and_rope(const Meta& m, ModelConfig& c) {
  LPU_ASSIGN_OR_RETURN(c.rms_eps,
                       m.real("attention.layer_norm_rms_epsilon", "RMSNorm epsilon", std::nullopt));
  LPU_ASSIGN_OR_RETURN(c.rope_theta, m.real("rope.freq_base", "RoPE frequency base", 10000.0));
  LPU_ASSIGN_OR_RETURN(c.rope_dim, m.count("rope.dimension_count", "dimensions RoPE rotates", 1,
                                           kMaxWidth, c.head_dim));
  if (c.rope_dim != c.head_dim || c.rope_dim % 2 != 0) {
    return m.bad("rope.dimension_count",
                 "is " + std::to_string(c.rope_dim) + " (expected the head width " +
                     std::to_string(c.head_dim) +
                     ", an even number: architecture llama rotates whole heads)");
  }
  return read_rope_scaling(m, c);
}

// n_vocab from the token embedding, cross-checked with llama.vocab_size and
// the tokenizer's token list when present.
Status read_vocab(const Meta& m, ModelConfig& c) {
  const gguf::File& f = m.file();
  const gguf::TensorInfo* embd = f.find_tensor("token_embd.weight");
  if (embd == nullptr) {
    return not_found(f.path() + ": missing tensor 'token_embd.weight' (expected [" +
                     std::to_string(c.n_embd) + ", n_vocab])");
  }
  if (embd->dims.size() != 2 || embd->dims[0] != static_cast<std::uint64_t>(c.n_embd) ||
      embd->dims[1] < 1 || embd->dims[1] > static_cast<std::uint64_t>(kMaxVocab)) {
    return invalid_argument(f.path() + ": tensor 'token_embd.weight' has shape " +
                            embd->shape_string() + " (expected [" + std::to_string(c.n_embd) +
                            ", n_vocab] with n_vocab in 1.." + std::to_string(kMaxVocab) + ")");
  }
  c.n_vocab = static_cast<int>(embd->dims[1]);
  LPU_ASSIGN_OR_RETURN(const int declared,
                       m.count("vocab_size", "vocabulary size", 1, kMaxVocab, c.n_vocab));
  if (declared != c.n_vocab) {
    return m.bad("vocab_size", "is " + std::to_string(declared) +
                                   " but tensor 'token_embd.weight' has " +
                                   std::to_string(c.n_vocab) + " rows (expected them equal)");
  }
  if (const gguf::Value* tokens = f.find("tokenizer.ggml.tokens")) {
    if (!tokens->is_array()) {
      return invalid_argument(f.path() + ": key 'tokenizer.ggml.tokens' is not an array");
    }
    const std::size_t n = std::get<gguf::Array>(tokens->data).items.size();
    if (n != static_cast<std::size_t>(c.n_vocab)) {
      return invalid_argument(f.path() + ": key 'tokenizer.ggml.tokens' holds " +
                              std::to_string(n) + " tokens but tensor 'token_embd.weight' has " +
                              std::to_string(c.n_vocab) + " rows (expected them equal)");
    }
  }
  c.tied_embeddings = f.find_tensor("output.weight") == nullptr;
  return {};
}

}  // namespace

Result<ModelConfig> model_config_from_gguf(const gguf::File& file) {
  ModelConfig c;
  const Meta m(file);
  LPU_TRY(read_architecture(file, c), "");
  LPU_TRY(read_attention_shape(m, c), "");
  LPU_TRY(read_ffn_shape(m, c), "");
  LPU_TRY(read_norm_and_rope(m, c), "");
  LPU_TRY(read_vocab(m, c), "");
  LPU_TRY(check_model_tensors(file, c), "");
  return c;
}

}  // namespace model

Result<ModelConfig> load_model_config(const std::string& gguf_path) {
  LPU_ASSIGN_OR_RETURN(const gguf::File file, gguf::File::open(gguf_path));
  return model::model_config_from_gguf(file);
}

std::int64_t ModelConfig::n_params() const {
  const std::int64_t d = n_embd;
  const std::int64_t q = static_cast<std::int64_t>(n_head) * head_dim;
  const std::int64_t kv = static_cast<std::int64_t>(n_head_kv) * head_dim;
  const std::int64_t attention = d * q + 2 * d * kv + q * d;
  const std::int64_t swiglu = 3 * d * n_ff;
  const std::int64_t ffn = is_moe() ? n_expert * swiglu + d * n_expert : swiglu;
  const std::int64_t per_layer = 2 * d + attention + ffn;
  const std::int64_t embedding = static_cast<std::int64_t>(n_vocab) * d;
  return embedding * (tied_embeddings ? 1 : 2) + d + n_layer * per_layer;
}

}  // namespace lpu
