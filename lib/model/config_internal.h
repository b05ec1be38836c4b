#pragma once
// Internal entry points of lib/model: the configuration of an already-open
// GGUF file, and the names and shapes of the tensors the forward pass reads.

#include <cstdint>
#include <string>
#include <vector>

#include "include/lpu/model.h"
#include "include/lpu/status.h"
#include "lib/gguf/file.h"

namespace lpu::model {

/// Reads the Llama-family configuration from `file`'s metadata and checks
/// every tensor the forward pass needs (presence, shape, supported type).
Result<ModelConfig> model_config_from_gguf(const gguf::File& file);

/// One tensor the forward pass expects: its GGUF name, its GGML dims
/// (dims[0] contiguous) and a description of those dims for messages.
struct ExpectedTensor {
  std::string name;
  std::vector<std::uint64_t> dims;
  std::string meaning;
  bool required = true;
};

/// Every tensor of a model with `config` (output.weight only when untied;
/// rope_freqs.weight as optional).
std::vector<ExpectedTensor> expected_tensors(const ModelConfig& config);

/// Checks `file`'s tensors against expected_tensors(config): each required
/// one present, every present one of the expected shape and a supported
/// type, and no tensor the architecture does not use.
Status check_model_tensors(const gguf::File& file, const ModelConfig& config);

/// GGUF tensor names ("blk.3.attn_q.weight").
std::string layer_tensor_name(int layer, const char* what);

}  // namespace lpu::model
