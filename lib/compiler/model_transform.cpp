#include "lib/compiler/model_transform.h"

#include "lib/quant/calibration.h"

namespace lpu::compiler {

std::vector<TokenId> request_transforms(const Model& model, const TransformRequest& request, ModelInput& m) {
  std::vector<TokenId> tokens = quant::calibration_tokens(model);
  const program::Smoothing spec = quant::smoothing_spec(tokens);
  const program::Rotation rotation = quant::default_rotation(model.config());
  m.transform_request = std::string("smoothing:") + (request.smoothing ? spec.method : "none") + ":" +
                        std::to_string(spec.alpha) + ":" + spec.calibration_hash + "|rotation:" +
                        (request.rotation && rotation.enabled() ? "if-better:" + rotation.method + ":" +
                                                                      std::to_string(rotation.seed) + ":G" +
                                                                      std::to_string(request.group)
                                                                : std::string("none"));
  return tokens;
}

Status calibrate_transforms(const Model& model, const TransformRequest& request, std::span<const TokenId> tokens,
                            ModelInput& m, const ProgressCallback& progress) {
  if (!request.smoothing && !request.rotation) return {};
  if (progress) progress({"calibrating", 0, 1});
  LPU_ASSIGN_OR_RETURN(quant::CalibratedTransform t,
                       quant::calibrate_transform(model, tokens, static_cast<int>(request.group),
                                                  request.smoothing, request.rotation));
  m.smoothing = std::move(t.smoothing);
  use_rotation(m, std::move(t.rotation));
  if (progress) progress({"calibrating", 1, 1});
  return {};
}

}  // namespace lpu::compiler
