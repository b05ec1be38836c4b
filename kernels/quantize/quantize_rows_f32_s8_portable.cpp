// quantize_rows_f32_s8 in plain C++ (the scalar definition, value by value).

#include "kernels/quantize/quantize_rows_f32_s8-inl.h"
#include "kernels/quantize/quantize_rows_f32_s8.h"

namespace lpu::kernels {
namespace {

struct PortableIsa {
  static float abs_max(const float* x, std::size_t n) {
    float m = 0.0f;
    for (std::size_t i = 0; i < n; ++i) m = quantize_body::max_abs_step<PortableIsa>(m, x[i]);
    return m;
  }
  static std::int32_t quantize(const float* x, std::size_t n, float id, std::int8_t* q) {
    std::int32_t sum = 0;
    for (std::size_t i = 0; i < n; ++i) {
      q[i] = quantize_body::quantize_one<PortableIsa>(x[i], id);
      sum += q[i];
    }
    return sum;
  }
};

}  // namespace

void quantize_rows_f32_s8_portable(const float* x, std::size_t x_stride, std::size_t rows,
                                   std::size_t k, std::size_t group_size, std::int8_t* q,
                                   std::size_t q_stride, float* scales, std::int32_t* sums) {
  quantize_body::quantize_rows<PortableIsa>(x, x_stride, rows, k, group_size, q, q_stride, scales,
                                            sums);
}

}  // namespace lpu::kernels
