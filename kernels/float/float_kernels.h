#pragma once
// The float kernels of one ISA as a table of function pointers, chosen once
// per process from the CPU (kernels/dispatch/isa.h, capped by $LPU_ISA).
// Every table computes the same bits; the choice only changes speed.

#include <cstddef>
#include <cstdint>

#include "kernels/dispatch/isa.h"

namespace lpu::kernels {

/// Function pointers to one ISA's float kernels; see the headers named in
/// each member's comment for the exact arithmetic.
struct FloatKernels {
  Isa isa;  ///< the ISA level this table was chosen for
  /// kernels/math/exp.h
  void (*exp)(const float* x, std::size_t n, float* y);
  /// kernels/norm/rmsnorm.h
  void (*rmsnorm)(const float* x, const float* weight, std::size_t n, float eps, float* y);
  /// kernels/softmax/softmax.h
  void (*softmax)(const float* x, std::size_t n, float* y);
  /// kernels/activation/silu_mul.h
  void (*silu_mul)(const float* gate, const float* up, std::size_t n, float* y);
  /// kernels/activation/add.h
  void (*add)(const float* a, const float* b, std::size_t n, float* y);
  /// kernels/float/row_max.h
  float (*max)(const float* x, std::size_t n);
  /// kernels/rope/rope.h, NORM mode (adjacent pairs)
  void (*rope_norm)(float* x, std::size_t n_heads, std::size_t head_dim, std::size_t n_dims,
                    const float* cos_sin);
  /// kernels/rope/rope.h, NEOX mode (pairs half a rotation apart)
  void (*rope_neox)(float* x, std::size_t n_heads, std::size_t head_dim, std::size_t n_dims,
                    const float* cos_sin);
  /// kernels/topk/router_topk.h
  void (*router_topk)(const float* logits, std::size_t n_experts, std::size_t k, bool normalize,
                      float* probs, std::int32_t* experts, float* weights);
};

/// The table for active_isa(); chosen on first use.
const FloatKernels& float_kernels();

/// The table for one ISA level (kAvx512Vnni selects the AVX-512F float
/// kernels), or nullptr when this CPU cannot run it; tests use this to
/// compare every path the host can run.
const FloatKernels* float_kernels_for(Isa isa);

}  // namespace lpu::kernels
