#pragma once
// The feed-forward half of a layer for every row of a batch step: the
// dense SwiGLU network, or the mixture of experts (fp32 router, softmax and
// top-k, each chosen expert's SwiGLU in int8 over the rows that chose it,
// outputs weighted and added in rank order).

#include <cstddef>

#include "lib/int8/exec.h"
#include "lib/int8/weights.h"

namespace lpu::int8 {

/// out[r] = down(silu(gate hq[r]) * up hq[r]) for every row of `hq`
/// (out rows n_embd floats apart).
void dense_ffn(const Exec& e, const FfnWeights& w, const kernels::QuantizedRows& hq, float* out);

/// The MoE output of every row: `h` (rows n_embd floats apart) feeds the
/// router, `hq` (its quantised rows) the experts.
void moe_ffn(const Exec& e, const LayerWeights& l, const float* h, const kernels::QuantizedRows& hq,
             float* out);

}  // namespace lpu::int8
