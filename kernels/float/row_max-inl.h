#pragma once
// Row maximum body, instantiated once per ISA (kernels/float/float_kernels_*.cpp).

#include <cstddef>
#include <limits>

#include "kernels/float/lanes16-inl.h"

namespace lpu::kernels {
namespace {

template <class F>
float max_f32_body(const float* x, std::size_t n) {
  constexpr std::size_t kV = kVecsPerBlock<F>;
  F b[kV];
  MaxLanes16<F> max;  // a NaN never compares greater, so it is skipped
  std::size_t i = 0;
  for (; i + kBlock <= n; i += kBlock) {
    load_block(x + i, b);
    max.add(b);
  }
  if (i < n) {
    load_block_partial(x + i, n - i, -std::numeric_limits<float>::infinity(), b);
    max.add(b);
  }
  return max.total();
}

}  // namespace
}  // namespace lpu::kernels
