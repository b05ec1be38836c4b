#pragma once
// The weight transforms a compile asks for (smoothing, rotation) and their
// calibration, for a model file: what compile_program and `lpu compile`
// do before compiling (the compiler itself never reads weights).

#include <cstdint>
#include <vector>

#include "include/lpu/model.h"
#include "include/lpu/progress.h"
#include "include/lpu/status.h"
#include "include/lpu/token.h"
#include "lib/compiler/compiler.h"

namespace lpu::compiler {

struct TransformRequest {
  bool smoothing = true;
  bool rotation = true;  ///< when calibration finds that it helps
  std::uint32_t group = 0;  ///< the G the choice is judged at
};

/// Names the request in m.transform_request (the Program cache's key, known
/// before calibrating) and returns the calibration tokens.
std::vector<TokenId> request_transforms(const Model& model, const TransformRequest& request, ModelInput& m);

/// Calibrates the request on `tokens` and sets m's records (the rotation's
/// embedding encoding with it). `progress` is told ("calibrating", 0 | 1, 1).
Status calibrate_transforms(const Model& model, const TransformRequest& request, std::span<const TokenId> tokens,
                            ModelInput& m, const ProgressCallback& progress = {});

}  // namespace lpu::compiler
