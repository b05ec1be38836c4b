#pragma once
// Test helper: GGUF v3 bytes built in memory, and tiny seeded Llama /
// Mixtral-shaped models, for one-defect-per-file configuration tests and
// reference forward-pass tests that need shapes no real file has.

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace lpu::testing {

/// Metadata and F32 tensors, serialised to GGUF v3 by bytes().
class GgufBuilder {
 public:
  GgufBuilder& set_u32(const std::string& key, std::uint32_t v);
  GgufBuilder& set_f32(const std::string& key, float v);
  GgufBuilder& set_string(const std::string& key, const std::string& v);
  GgufBuilder& set_string_array(const std::string& key, const std::vector<std::string>& v);
  GgufBuilder& remove(const std::string& key);

  /// dims in GGML order (dims[0] contiguous); values.size() must match.
  GgufBuilder& set_tensor(const std::string& name, std::vector<std::uint64_t> dims,
                          std::vector<float> values);
  GgufBuilder& remove_tensor(const std::string& name);
  /// The values of a tensor added earlier (for building variants).
  const std::vector<float>& tensor_values(const std::string& name) const;

  std::vector<std::uint8_t> bytes() const;

 private:
  using Scalar = std::variant<std::uint32_t, float, std::string, std::vector<std::string>>;
  struct Kv {
    std::string key;
    Scalar value;
  };
  struct Tensor {
    std::string name;
    std::vector<std::uint64_t> dims;
    std::vector<float> values;
  };
  GgufBuilder& set(const std::string& key, Scalar v);

  std::vector<Kv> kvs_;
  std::vector<Tensor> tensors_;
};

/// Shape of a tiny synthetic model.
struct TinyLlama {
  int n_vocab = 32;
  int n_embd = 16;
  int n_layer = 2;
  int n_head = 4;
  int n_head_kv = 2;
  int n_ff = 24;
  int n_ctx_train = 64;
  int n_expert = 0;
  int n_expert_used = 0;
  bool tied = false;
  std::uint32_t seed = 1;
};

/// A complete, valid architecture-"llama" model of `spec` with seeded
/// weights of magnitude ~1/sqrt(fan-in) and norms near 1.
GgufBuilder tiny_llama(const TinyLlama& spec);

/// `n` seeded values uniform in [-scale, scale).
std::vector<float> seeded_values(std::size_t n, std::uint32_t seed, float scale);

}  // namespace lpu::testing
