#include "lib/quant/quantize_matrix.h"

#include <string>

#include "kernels/quantize/quantize.h"

namespace lpu::quant {

Result<kernels::QuantizedRows> quantize_matrix(std::span<const float> values, std::size_t rows,
                                               std::size_t k, const QuantConfig& config) {
  LPU_TRY(validate(config), "quantize_matrix");
  if (rows == 0 || k == 0) {
    return invalid_argument("quantize_matrix: shape [" + std::to_string(rows) + ", " +
                            std::to_string(k) + "] is empty");
  }
  if (values.size() % k != 0 || values.size() / k != rows) {
    return invalid_argument("quantize_matrix: " + std::to_string(values.size()) +
                            " values for a [" + std::to_string(rows) + ", " + std::to_string(k) +
                            "] matrix");
  }
  kernels::QuantizedRows q(rows, k, config.group_size);
  kernels::quantize_rows(values.data(), k, q);
  return q;
}

std::vector<float> dequantize_matrix(const kernels::QuantizedRows& q) {
  std::vector<float> out(q.rows() * q.k());
  for (std::size_t r = 0; r < q.rows(); ++r) {
    const std::int8_t* row = q.row(r);
    float* dst = out.data() + r * q.k();
    for (std::size_t i = 0; i < q.k(); ++i) {
      dst[i] = static_cast<float>(row[i]) * q.scales(r)[i / q.group_size()];
    }
  }
  return out;
}

}  // namespace lpu::quant
