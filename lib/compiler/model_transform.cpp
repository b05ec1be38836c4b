#include "lib/compiler/model_transform.h"

#include <sstream>

#include "lib/gguf/tensor_type.h"
#include "lib/model/model_access.h"
#include "lib/model/model_hash.h"
#include "lib/quant/calibration.h"
#include "lib/quant/quant_config.h"
#include "lib/quant/weight_transform.h"

namespace lpu::compiler {

std::string transform_key(const ModelInput& m) {
  if (!m.transform_request.empty()) return m.transform_request;
  const program::Smoothing& s = m.smoothing;
  std::ostringstream os;
  if (s.enabled()) {
    os << s.method << ':' << s.alpha << ':' << s.calibration_hash << ':' << s.calibration_tokens;
  } else {
    os << "none";
  }
  os << '+' << (m.rotation.enabled() ? m.rotation.method + ':' + std::to_string(m.rotation.seed) : "none");
  return os.str();
}

void use_rotation(ModelInput& m, program::Rotation rotation) {
  m.rotation = std::move(rotation);
  if (!m.rotation.enabled()) return;
  const auto n = static_cast<std::uint64_t>(m.config.n_embd);
  const gguf::TensorType type = quant::rotated_embedding_type(n);
  const auto traits = gguf::supported_type_traits(static_cast<std::uint32_t>(type));
  m.embd_type = static_cast<std::uint32_t>(type);
  m.embd_block = traits->block_elems;
  m.embd_block_bytes = traits->block_bytes;
  m.embd_row_bytes = n / m.embd_block * m.embd_block_bytes;
}


std::vector<TokenId> request_transforms(const Model& model, const TransformRequest& request, ModelInput& m) {
  std::vector<TokenId> tokens = quant::calibration_tokens(model);
  const program::Smoothing spec = quant::smoothing_spec(tokens);
  const program::Rotation rotation = quant::default_rotation(model.config());
  if (!request.smoothing && !request.rotation) return tokens;
  // The weights' bytes too: the records follow from them, not from the
  // tensor list alone.
  m.transform_request = "weights:" + model::weights_hash(model::model_file(model)) + "|smoothing:" +
                        (request.smoothing ? spec.method : "none") + ":" +
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
  // A G the compiler will refuse: leave the error to it, before any work.
  if (!quant::validate(quant::QuantConfig{request.group}).ok()) return {};
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
