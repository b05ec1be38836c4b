#pragma once
// The int8 quantisation scheme's one parameter: the group size G
// (docs/quantization.md).

#include <cstddef>

#include "include/lpu/status.h"

namespace lpu::quant {

/// The CPU default group: 256 consecutive k share one fp32 scale. The
/// per-group fp32 rescale then costs about 5% of the int8 work of a GEMM
/// tile and the scales add 1.6% to the bytes a GEMV streams (at G = 32:
/// about 30% and 12.5%), while a group still spans only 1/16 of a
/// 4096-wide row, so one outlier coarsens few weights.
inline constexpr std::size_t kDefaultGroupSize = 256;

/// G = 32: Q8_0's block, the granularity of llama.cpp's int8 (the fidelity
/// reference); Q8_0 weights import without loss.
inline constexpr std::size_t kQ8_0GroupSize = 32;

/// G = 320: the K tile of the tsp-v1 LPU's matrix unit.
inline constexpr std::size_t kTspV1GroupSize = 320;

struct QuantConfig {
  /// Consecutive k sharing one scale: a multiple of 32 in [32, 65536].
  std::size_t group_size = kDefaultGroupSize;
};

/// OK when group_size is a multiple of 32 in [32, 65536]; otherwise an
/// invalid_argument naming the value.
Status validate(const QuantConfig& config);

}  // namespace lpu::quant
