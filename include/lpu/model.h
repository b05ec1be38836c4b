#pragma once
// Model hyper-parameters (ModelConfig) read from GGUF metadata, config-only
// shape presets of published models, and lpu::Model: an opened, validated
// GGUF model file.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "lpu/status.h"
#include "lpu/tokenizer.h"

namespace lpu {

/// How RoPE positions are rescaled for contexts past the training length.
enum class RopeScalingType : std::uint8_t {
  kNone,    ///< no rescaling (any stored factor is ignored, as llama.cpp does)
  kLinear,  ///< position interpolation: angles divided by rope_scaling_factor
  kYarn,    ///< YaRN: per-dimension blend of interpolation and extrapolation
};

/// "none", "linear" or "yarn".
std::string_view rope_scaling_type_name(RopeScalingType type);

/// Hyper-parameters of a Llama-family decoder (dense or mixture-of-experts).
struct ModelConfig {
  /// general.architecture; always "llama" for loaded models.
  std::string architecture = "llama";
  /// general.name, or the preset name; may be empty.
  std::string name;

  int n_vocab = 0;
  /// Model (residual stream) width.
  int n_embd = 0;
  int n_layer = 0;
  /// Query heads.
  int n_head = 0;
  /// Key/value heads (grouped-query attention when < n_head).
  int n_head_kv = 0;
  /// Width of one attention head (n_embd / n_head unless the file says otherwise).
  int head_dim = 0;
  /// Hidden width of the feed-forward network (of each expert for MoE).
  int n_ff = 0;
  /// Context length the model was trained with.
  int n_ctx_train = 0;
  /// Experts per MoE layer; 0 for a dense model.
  int n_expert = 0;
  /// Experts evaluated per token (top-k); 0 for a dense model.
  int n_expert_used = 0;

  float rms_eps = 1e-5f;
  /// RoPE frequency base.
  float rope_theta = 10000.0f;
  /// Number of leading dimensions of each head that RoPE rotates.
  int rope_dim = 0;
  RopeScalingType rope_scaling = RopeScalingType::kNone;
  /// Context extension factor (>= 1; 1 when there is no scaling).
  float rope_scaling_factor = 1.0f;
  /// Original training context YaRN corrects for.
  int rope_orig_ctx = 0;
  /// Extra attention-magnitude factor applied with RoPE (1 unless set).
  float rope_attn_factor = 1.0f;

  /// True when the output projection reuses the token embedding.
  bool tied_embeddings = false;

  /// True for a mixture-of-experts model.
  bool is_moe() const { return n_expert > 0; }
  /// Weight count of the whole model (embedding, every layer, final norm and
  /// the output projection unless tied).
  std::int64_t n_params() const;
};

/// Reads and validates the configuration of the GGUF model at `gguf_path`,
/// including the presence, shape and type of every tensor the forward pass
/// needs. Errors name the file and the key or tensor at fault.
Result<ModelConfig> load_model_config(const std::string& gguf_path);

/// Configuration of a published model without weights: "llama-2-7b",
/// "llama-2-70b", "llama-3-8b", "llama-3-70b" or "mixtral-8x7b".
Result<ModelConfig> shape_preset(std::string_view name);

/// Names accepted by shape_preset(), in a fixed order.
std::vector<std::string> shape_preset_names();

/// An opened GGUF model: the validated configuration plus the file mapping
/// that holds its weights (kept open for as long as the Model lives).
class Model {
 public:
  /// Opens `path`, reads its configuration and checks every tensor the
  /// forward pass needs.
  static Result<Model> load(const std::string& path);

  Model(Model&&) noexcept;
  Model& operator=(Model&&) noexcept;
  ~Model();

  const ModelConfig& config() const;
  /// The path the model was loaded from.
  const std::string& path() const;
  /// The tokenizer.chat_template metadata (Jinja source), or empty.
  std::string chat_template() const;
  /// The model's tokenizer, from the file already open (no second parse
  /// of the GGUF). Errors name the file and the tokenizer key.
  Result<Tokenizer> tokenizer() const;

  /// Library internals (the GGUF file behind the model), defined in
  /// lib/model/model_access.h; opaque to applications.
  struct Impl;

 private:
  friend struct internal::Access;
  explicit Model(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace lpu
