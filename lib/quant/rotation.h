#pragma once
// The rotation of the residual stream on fp32 weights (the whole-model
// statement of what the import does per tensor: weight_transform.h).

#include "include/lpu/model.h"
#include "lib/quant/hadamard.h"

namespace lpu::reference {
struct Weights;  // lib/reference/weights.h (fp32 Eigen matrices)
}

namespace lpu::quant {

/// Rotates the residual stream by R (hadamard.h): the norm weights are
/// folded into the matrices that read them (the norms become weightless,
/// which commutes with R), every matrix reading the stream becomes W R,
/// every matrix writing it R^T W, the embedding rows E R and the (untied)
/// output head (W_out diag(g)) R. Exact in real arithmetic; spreads an
/// outlier channel's magnitude over all channels.
void apply_rotation(const ModelConfig& config, const HadamardRotation& rotation, reference::Weights& weights);

}  // namespace lpu::quant
