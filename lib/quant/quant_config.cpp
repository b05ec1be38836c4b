#include "lib/quant/quant_config.h"

#include <string>

#include "kernels/quantize/quantized_rows.h"

namespace lpu::quant {

Status validate(const QuantConfig& config) {
  if (!kernels::valid_group_size(config.group_size)) {
    return invalid_argument("quantisation group size " + std::to_string(config.group_size) +
                            " is not a multiple of 32 in [32, 65536]");
  }
  return Status::ok_status();
}

}  // namespace lpu::quant
