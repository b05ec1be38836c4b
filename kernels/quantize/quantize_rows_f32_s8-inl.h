#pragma once
// The one body of quantize_rows_f32_s8 (quantize_rows_f32_s8.h), templated
// on an ISA tag that provides the vector parts of one group:
//
//   abs_max(x, n)            max |x[i]| (NaN ignored), 0 for no finite value
//   quantize(x, n, id, q)    q[i] = quantize_one(x[i], id); returns sum q[i]
//
// Include only from a per-ISA .cpp whose tag lives in an anonymous
// namespace. The scalar helpers are templates on the tag, so each ISA's file
// gets its own copy compiled with its own flags (no shared inline symbol).

#include <cmath>
#include <cstddef>
#include <cstdint>

#define LPU_KERNEL_INLINE inline __attribute__((always_inline))

namespace lpu::kernels::quantize_body {

// max(m, |x|) as vmaxps(|x|, m) computes it: a NaN |x| leaves m unchanged.
template <class Isa>
LPU_KERNEL_INLINE float max_abs_step(float m, float x) {
  const float a = std::fabs(x);
  return a > m ? a : m;
}

// The quantisation of one value, the reference for the vector code:
// trunc, then one step away from zero when the dropped fraction is at least
// 1/2. v - trunc(v) is exact in binary floating point, so this equals
// roundf(v) for every float, including 0.49999997 (where adding 0.5 and
// truncating would give 1). NaN gives 0; the clamp only matters when the
// scale is subnormal and id overflows to infinity.
template <class Isa>
LPU_KERNEL_INLINE std::int8_t quantize_one(float x, float id) {
  const float v = x * id;
  float r = std::trunc(v);
  if (std::fabs(v - r) >= 0.5f) r += std::copysign(1.0f, v);
  if (!(v == v)) r = 0.0f;
  r = r < -127.0f ? -127.0f : r;
  r = r > 127.0f ? 127.0f : r;
  return static_cast<std::int8_t>(r);
}

template <class Isa>
LPU_KERNEL_INLINE void quantize_row(const float* x, std::size_t k, std::size_t group_size,
                                    std::int8_t* q, float* scales, std::int32_t* sums) {
  for (std::size_t g = 0, k0 = 0; k0 < k; ++g, k0 += group_size) {
    const std::size_t n = k - k0 < group_size ? k - k0 : group_size;
    const float amax = Isa::abs_max(x + k0, n);
    const float scale = amax / 127.0f;
    const float id = scale != 0.0f ? 1.0f / scale : 0.0f;
    sums[g] = Isa::quantize(x + k0, n, id, q + k0);
    scales[g] = scale;
  }
}

template <class Isa>
void quantize_rows(const float* x, std::size_t x_stride, std::size_t rows, std::size_t k,
                   std::size_t group_size, std::int8_t* q, std::size_t q_stride, float* scales,
                   std::int32_t* sums) {
  const std::size_t groups = (k + group_size - 1) / group_size;
  for (std::size_t r = 0; r < rows; ++r) {
    quantize_row<Isa>(x + r * x_stride, k, group_size, q + r * q_stride, scales + r * groups,
                      sums + r * groups);
  }
}

}  // namespace lpu::kernels::quantize_body
