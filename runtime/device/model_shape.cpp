#include "runtime/device/model_shape.h"

#include "lib/gguf/dequantize.h"
#include "lib/model/model_access.h"

namespace lpu::runtime {

Result<ModelShape> model_shape(const Model& m) {
  ModelShape s;
  s.config = m.config();
  const gguf::File& f = model::model_file(m);
  if (const gguf::TensorInfo* t = f.find_tensor("rope_freqs.weight")) {
    LPU_ASSIGN_OR_RETURN(s.rope_freqs, gguf::dequantize_tensor(f, *t));
  }
  return s;
}

}  // namespace lpu::runtime
