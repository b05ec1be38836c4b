#pragma once
// What a backend needs of the model besides the Program and the SRAM
// images: its shape (n_head locates keys and values in a qkv row) and the
// RoPE schedule's inputs (the config and rope_freqs.weight).

#include <vector>

#include "include/lpu/model.h"
#include "include/lpu/status.h"

namespace lpu::runtime {

struct ModelShape {
  ModelConfig config;
  std::vector<float> rope_freqs;  ///< empty unless the model has rope_freqs.weight
};

/// The shape of a loaded model (reads rope_freqs.weight when present).
Result<ModelShape> model_shape(const Model& m);

}  // namespace lpu::runtime
