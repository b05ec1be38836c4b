#include "kernels/reference/int8_reference.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "kernels/dispatch/check.h"

namespace lpu::kernels {

void matmul_s8_reference(const QuantizedRows& w, const QuantizedRows& x, float* y,
                         std::size_t y_stride) {
  LPU_KERNEL_CHECK(w.k() == x.k() && w.group_size() == x.group_size(),
                   "weights and activations differ in k or group size");
  const std::size_t gs = w.group_size();
  for (std::size_t m = 0; m < x.rows(); ++m) {
    for (std::size_t n = 0; n < w.rows(); ++n) {
      float acc = 0.0f;
      for (std::size_t g = 0; g < w.groups(); ++g) {
        std::int64_t isum = 0;
        for (std::size_t i = g * gs; i < std::min(w.k(), (g + 1) * gs); ++i) {
          isum += std::int64_t{w.row(n)[i]} * std::int64_t{x.row(m)[i]};
        }
        LPU_KERNEL_CHECK(isum >= std::numeric_limits<std::int32_t>::min() &&
                             isum <= std::numeric_limits<std::int32_t>::max(),
                         "group sum outside int32");
        const float scale = w.scales(n)[g] * x.scales(m)[g];
        acc = std::fma(static_cast<float>(static_cast<std::int32_t>(isum)), scale, acc);
      }
      y[m * y_stride + n] = acc;
    }
  }
}

void quantize_row_reference(const float* x, std::size_t k, std::size_t group_size, std::int8_t* q,
                            float* scales, std::int32_t* sums) {
  for (std::size_t g = 0; g * group_size < k; ++g) {
    const std::size_t begin = g * group_size;
    const std::size_t end = std::min(k, begin + group_size);
    float amax = 0.0f;
    for (std::size_t i = begin; i < end; ++i) {
      if (!std::isnan(x[i])) amax = std::max(amax, std::fabs(x[i]));
    }
    const float scale = amax / 127.0f;
    const float id = scale != 0.0f ? 1.0f / scale : 0.0f;
    std::int32_t sum = 0;
    for (std::size_t i = begin; i < end; ++i) {
      const float v = x[i] * id;
      const float r = std::isnan(v) ? 0.0f : std::clamp(std::roundf(v), -127.0f, 127.0f);
      q[i] = static_cast<std::int8_t>(r);
      sum += q[i];
    }
    scales[g] = scale;
    sums[g] = sum;
  }
}

}  // namespace lpu::kernels
