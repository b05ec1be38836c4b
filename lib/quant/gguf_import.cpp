#include "lib/quant/gguf_import.h"

#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "kernels/quantize/quantize.h"
#include "lib/gguf/dequantize.h"

namespace lpu::quant {
namespace {

constexpr std::size_t kQ8_0BlockElems = 32;
constexpr std::size_t kQ8_0BlockBytes = 34;

std::string where(const gguf::File& file, const gguf::TensorInfo& tensor) {
  return file.path() + ": tensor '" + tensor.name + "' " + tensor.shape_string();
}

}  // namespace

Status fits(const TensorTransform& t, std::size_t rows, std::size_t k) {
  const bool ok = (t.scaling.columns.empty() || t.scaling.columns.size() == k) &&
                  (t.scaling.rows.empty() || t.scaling.rows.size() == rows) &&
                  (t.rotate != TensorTransform::Rotate::kRows || t.rotation->size() == k) &&
                  (t.rotate != TensorTransform::Rotate::kColumns || t.rotation->size() == rows);
  if (ok) return {};
  return invalid_argument("the weight transform (" + std::to_string(t.scaling.rows.size()) + " row and " +
                          std::to_string(t.scaling.columns.size()) + " column factors, rotation of order " +
                          std::to_string(t.rotation ? t.rotation->size() : 0) + ") does not fit " +
                          std::to_string(rows) + " rows x " + std::to_string(k) + " columns");
}

Result<kernels::QuantizedRows> import_q8_0(std::span<const std::uint8_t> blocks, std::size_t rows,
                                           std::size_t k) {
  if (rows == 0 || k == 0 || k % kQ8_0BlockElems != 0) {
    return invalid_argument("Q8_0 import: row length " + std::to_string(k) +
                            " is not a positive multiple of 32");
  }
  const std::size_t per_row = k / kQ8_0BlockElems;
  if (blocks.size() / kQ8_0BlockBytes / per_row != rows ||
      blocks.size() != rows * per_row * kQ8_0BlockBytes) {
    return invalid_argument("Q8_0 import: " + std::to_string(blocks.size()) + " bytes for [" +
                            std::to_string(rows) + ", " + std::to_string(k) + "] (expected " +
                            std::to_string(rows * per_row * kQ8_0BlockBytes) + ")");
  }
  kernels::QuantizedRows q(rows, k, kQ8_0GroupSize);
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t b = 0; b < per_row; ++b) {
      const std::uint8_t* block = blocks.data() + (r * per_row + b) * kQ8_0BlockBytes;
      std::uint16_t d;
      std::memcpy(&d, block, sizeof(d));
      q.scales(r)[b] = gguf::f16_to_f32(d);
      std::memcpy(q.row(r) + b * kQ8_0BlockElems, block + 2, kQ8_0BlockElems);
    }
  }
  q.update_sums();
  return q;
}

Result<kernels::QuantizedRows> import_tensor(const gguf::File& file, const gguf::TensorInfo& tensor,
                                             const QuantConfig& config, const TensorTransform& transform) {
  LPU_TRY(validate(config), where(file, tensor));
  if (!tensor.supported || tensor.data == nullptr) {
    return invalid_argument(
        where(file, tensor) + ": type " +
        std::string(gguf::type_name(static_cast<std::uint32_t>(tensor.type))) +
        " cannot be read (supported: " + std::string(gguf::supported_type_list()) + ")");
  }
  const std::size_t k = tensor.row_length();
  const std::size_t rows = tensor.n_rows();
  if (rows == 0 || k == 0) return invalid_argument(where(file, tensor) + ": empty tensor");
  const std::size_t per_expert = tensor.dims.size() >= 2 ? tensor.dims[1] : 1;
  LPU_TRY(fits(transform, per_expert, k), where(file, tensor));
  if (transform.empty() && tensor.type == gguf::TensorType::kQ8_0 && config.group_size == kQ8_0GroupSize) {
    LPU_ASSIGN_OR_RETURN(kernels::QuantizedRows q, import_q8_0(tensor.bytes(), rows, k));
    return q;
  }
  const std::optional<std::uint64_t> row_bytes = gguf::row_bytes(tensor.type, k);
  if (!row_bytes || *row_bytes * rows != tensor.n_bytes) {
    return data_loss(where(file, tensor) + ": " + std::to_string(tensor.n_bytes) +
                     " bytes do not hold " + std::to_string(rows) + " whole rows");
  }
  kernels::QuantizedRows q(rows, k, config.group_size);
  if (!transform.needs_whole_matrix()) {
    // Row by row, so only one fp32 row exists at a time.
    std::vector<float> row(k);
    for (std::size_t r = 0; r < rows; ++r) {
      gguf::dequantize_row(tensor.type, tensor.data + r * *row_bytes, row.data(), k);
      transform.apply_row(r % per_expert, row);
      kernels::quantize_rows(row.data(), k, q, r, 1);
    }
    return q;
  }
  // Expert by expert: a rotation of the columns needs a whole matrix (the
  // writers: n_embd rows).
  std::vector<float> expert(per_expert * k);
  for (std::size_t r0 = 0; r0 < rows; r0 += per_expert) {
    for (std::size_t r = 0; r < per_expert; ++r) {
      gguf::dequantize_row(tensor.type, tensor.data + (r0 + r) * *row_bytes, expert.data() + r * k, k);
    }
    transform.apply(expert, per_expert, k);
    kernels::quantize_rows(expert.data(), k, q, r0, per_expert);
  }
  return q;
}

}  // namespace lpu::quant
