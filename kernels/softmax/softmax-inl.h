#pragma once
// Softmax body, instantiated once per ISA (kernels/float/float_kernels_*.cpp).

#include <cstddef>
#include <limits>

#include "kernels/float/lanes16-inl.h"
#include "kernels/math/math-inl.h"

namespace lpu::kernels {
namespace {

// y = e * float(1 / sum(e)) with e = exp(x - max(x)): the reference forward
// pass's sequence (multiply by the rounded reciprocal, not divide), the
// maximum and the double sum taken in the 16-lane order.
template <class F>
void softmax_f32_body(const float* x, std::size_t n, float* y) {
  if (n == 0) return;
  constexpr std::size_t kV = kVecsPerBlock<F>;
  F b[kV];
  MaxLanes16<F> max;
  std::size_t i = 0;
  for (; i + kBlock <= n; i += kBlock) {
    load_block(x + i, b);
    max.add(b);
  }
  const std::size_t tail = n - i;
  if (tail > 0) {
    load_block_partial(x + i, tail, -std::numeric_limits<float>::infinity(), b);
    max.add(b);
  }
  const F m(max.total());
  SumLanes16<F> sum;
  for (i = 0; i + kBlock <= n; i += kBlock) {
    load_block(x + i, b);
    for (auto& v : b) v = exp_v(v - m);
    store_block(y + i, b);
    sum.add(b);
  }
  if (tail > 0) {
    load_block_partial(x + i, tail, 0.0f, b);
    for (auto& v : b) v = exp_v(v - m);
    store_block_partial(y + i, tail, b);
    load_block_partial(y + i, tail, 0.0f, b);  // padding lanes add exactly 0
    sum.add(b);
  }
  const F inv(static_cast<float>(1.0 / sum.total()));
  for (i = 0; i + kBlock <= n; i += kBlock) {
    load_block(y + i, b);
    for (auto& v : b) v = v * inv;
    store_block(y + i, b);
  }
  if (tail > 0) {
    load_block_partial(y + i, tail, 0.0f, b);
    for (auto& v : b) v = v * inv;
    store_block_partial(y + i, tail, b);
  }
}

}  // namespace
}  // namespace lpu::kernels
