#pragma once
// Seeded tensor contents for synthetic models.

#include <cstdint>
#include <span>
#include <string>

#include "include/lpu/status.h"
#include "lib/gguf/tensor_type.h"

namespace lpu::synth {

/// How a tensor's values are drawn: mean + stddev * N(0, 1), times
/// outlier_scale at every index i with i % outlier_every == outlier_every / 2
/// (planted outlier channels; outlier_every 0: none).
struct WeightInit {
  double mean = 0.0;
  double stddev = 1.0;
  std::uint64_t outlier_every = 0;
  double outlier_scale = 1.0;
};

/// Value `index` of tensor `name`: float((mean + stddev * normal(seed,
/// fnv1a64(name), index)) * the outlier scale at index). The stream is the name's hash, so adding or
/// reordering tensors never changes another tensor's values.
float synth_weight(std::uint64_t seed, std::uint64_t stream, std::uint64_t index, WeightInit init);

/// Fills `out` (row_bytes(type, n) bytes) with the `n` values of tensor
/// `name` encoded as `type` (F32, F16 or Q8_0), in parallel chunks whose
/// boundaries fall on block boundaries so the bytes never depend on the
/// number of threads.
Status fill_tensor(std::uint64_t seed, const std::string& name, WeightInit init,
                   gguf::TensorType type, std::uint64_t n, std::span<std::uint8_t> out);

}  // namespace lpu::synth
