#pragma once
// Test helper: GGUF v3 bytes built in memory by gguf::Writer, and tiny
// seeded Llama / Mixtral-shaped models, for one-defect-per-file
// configuration tests and reference forward-pass tests that need shapes no
// real file has.

#include <cstdint>
#include <string>
#include <vector>

#include "include/lpu/status.h"
#include "lib/gguf/writer.h"

namespace lpu::testing {

/// The file `writer` writes, as bytes (it goes through a temporary file:
/// the writer's only output is a file).
Result<std::vector<std::uint8_t>> gguf_bytes(const gguf::Writer& writer);

/// Metadata and F32 tensors, serialised to GGUF v3 by bytes(). Unlike
/// gguf::Writer, tensors can be replaced and removed, to build variants.
class ModelGgufBuilder {
 public:
  ModelGgufBuilder& set_u32(const std::string& key, std::uint32_t v);
  ModelGgufBuilder& set_f32(const std::string& key, float v);
  ModelGgufBuilder& set_string(const std::string& key, const std::string& v);
  ModelGgufBuilder& set_string_array(const std::string& key, const std::vector<std::string>& v);
  ModelGgufBuilder& remove(const std::string& key);

  /// dims in GGML order (dims[0] contiguous); values.size() must match.
  ModelGgufBuilder& set_tensor(const std::string& name, std::vector<std::uint64_t> dims,
                               std::vector<float> values);
  ModelGgufBuilder& remove_tensor(const std::string& name);
  /// The values of a tensor added earlier (for building variants).
  const std::vector<float>& tensor_values(const std::string& name) const;

  /// Throws std::invalid_argument when the writer refuses the contents.
  std::vector<std::uint8_t> bytes() const;

 private:
  struct Tensor {
    std::string name;
    std::vector<std::uint64_t> dims;
    std::vector<float> values;
  };

  gguf::Writer metadata_;
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
ModelGgufBuilder tiny_llama(const TinyLlama& spec);

/// `n` seeded values uniform in [-scale, scale).
std::vector<float> seeded_values(std::size_t n, std::uint32_t seed, float scale);

}  // namespace lpu::testing
