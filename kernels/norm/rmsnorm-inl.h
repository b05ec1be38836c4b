#pragma once
// RMSNorm body, instantiated once per ISA (kernels/float/float_kernels_*.cpp).

#include <cstddef>

#include "kernels/float/lanes16-inl.h"
#include "kernels/math/math-inl.h"

namespace lpu::kernels {
namespace {

// y = (x * scale) * w with scale = rsqrt(float(sum(x*x) / n) + eps): the
// operation sequence of the reference forward pass, the squares rounded to
// float and summed in double in the 16-lane order.
template <class F>
void rmsnorm_f32_body(const float* x, const float* w, std::size_t n, float eps, float* y) {
  if (n == 0) return;
  constexpr std::size_t kV = kVecsPerBlock<F>;
  SumLanes16<F> sum;
  F b[kV];
  std::size_t i = 0;
  for (; i + kBlock <= n; i += kBlock) {
    load_block(x + i, b);
    for (auto& v : b) v = v * v;
    sum.add(b);
  }
  if (i < n) {
    load_block_partial(x + i, n - i, 0.0f, b);
    for (auto& v : b) v = v * v;
    sum.add(b);
  }
  const auto mean = static_cast<float>(sum.total() / static_cast<double>(n));
  const F scale(rsqrt_v(mean + eps));
  F wb[kV];
  for (i = 0; i + kBlock <= n; i += kBlock) {
    load_block(x + i, b);
    load_block(w + i, wb);
    for (std::size_t k = 0; k < kV; ++k) b[k] = (b[k] * scale) * wb[k];
    store_block(y + i, b);
  }
  if (i < n) {
    load_block_partial(x + i, n - i, 0.0f, b);
    load_block_partial(w + i, n - i, 0.0f, wb);
    for (std::size_t k = 0; k < kV; ++k) b[k] = (b[k] * scale) * wb[k];
    store_block_partial(y + i, n - i, b);
  }
}

}  // namespace
}  // namespace lpu::kernels
