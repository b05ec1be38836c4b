#include "kernels/quantize/quantize.h"

#include "kernels/dispatch/check.h"

namespace lpu::kernels {

void quantize_rows(const float* x, std::size_t x_stride, QuantizedRows& out,
                   const Int8Kernels* kernels) {
  quantize_rows(x, x_stride, out, 0, out.rows(), kernels);
}

void quantize_rows(const float* x, std::size_t x_stride, QuantizedRows& out, std::size_t first,
                   std::size_t count, const Int8Kernels* kernels) {
  LPU_KERNEL_CHECK(count <= 1 || x_stride >= out.k(), "x_stride shorter than a row");
  LPU_KERNEL_CHECK(first <= out.rows() && count <= out.rows() - first, "rows out of range");
  if (count == 0) return;
  const Int8Kernels& k = kernels != nullptr ? *kernels : int8_kernels();
  k.quantize_rows(x, x_stride, count, out.k(), out.group_size(), out.row(first), out.stride(),
                  out.scales(first), out.sums(first));
}

}  // namespace lpu::kernels
