#pragma once
// exp over an array, instantiated once per ISA (kernels/float/float_kernels_*.cpp).

#include <cstddef>

#include "kernels/float/lanes16-inl.h"
#include "kernels/math/math-inl.h"

namespace lpu::kernels {
namespace {

template <class F>
void exp_f32_body(const float* x, std::size_t n, float* y) {
  F b[kVecsPerBlock<F>];
  std::size_t i = 0;
  for (; i + kBlock <= n; i += kBlock) {
    load_block(x + i, b);
    for (auto& v : b) v = exp_v(v);
    store_block(y + i, b);
  }
  if (i < n) {
    load_block_partial(x + i, n - i, 0.0f, b);
    for (auto& v : b) v = exp_v(v);
    store_block_partial(y + i, n - i, b);
  }
}

}  // namespace
}  // namespace lpu::kernels
