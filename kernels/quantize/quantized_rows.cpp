#include "kernels/quantize/quantized_rows.h"

#include <algorithm>

#include "kernels/dispatch/check.h"

namespace lpu::kernels {

QuantizedRows::QuantizedRows(std::size_t rows, std::size_t k, std::size_t group_size)
    : rows_(rows),
      k_(k),
      group_size_(group_size),
      groups_(group_count(k, group_size)),
      stride_((k + 63) / 64 * 64),
      q_(rows * stride_),
      scales_(rows * groups_, 0.0f),
      sums_(rows * groups_, 0) {
  LPU_KERNEL_CHECK(valid_group_size(group_size),
                   "group size must be a multiple of 32 in [32, 65536]");
  LPU_KERNEL_CHECK(k >= 1, "rows need at least one element");
}

void QuantizedRows::update_sums() {
  for (std::size_t r = 0; r < rows_; ++r) {
    const std::int8_t* q = row(r);
    for (std::size_t g = 0; g < groups_; ++g) {
      const std::size_t end = std::min(k_, (g + 1) * group_size_);
      std::int32_t s = 0;
      for (std::size_t i = g * group_size_; i < end; ++i) s += q[i];
      sums(r)[g] = s;
    }
  }
}

}  // namespace lpu::kernels
