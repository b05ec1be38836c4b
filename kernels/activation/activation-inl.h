#pragma once
// Element-wise bodies (SiLU x mul, residual add), instantiated once per ISA
// (kernels/float/float_kernels_*.cpp).

#include <cstddef>

#include "kernels/float/lanes16-inl.h"
#include "kernels/math/math-inl.h"

namespace lpu::kernels {
namespace {

// Applies op to blocks of a, b into y, the short last block padded with 0.
template <class F, class Op>
void binary_f32_body(const float* a, const float* b, std::size_t n, float* y, Op op) {
  constexpr std::size_t kV = kVecsPerBlock<F>;
  F va[kV];
  F vb[kV];
  std::size_t i = 0;
  for (; i + kBlock <= n; i += kBlock) {
    load_block(a + i, va);
    load_block(b + i, vb);
    for (std::size_t k = 0; k < kV; ++k) va[k] = op(va[k], vb[k]);
    store_block(y + i, va);
  }
  if (i < n) {
    load_block_partial(a + i, n - i, 0.0f, va);
    load_block_partial(b + i, n - i, 0.0f, vb);
    for (std::size_t k = 0; k < kV; ++k) va[k] = op(va[k], vb[k]);
    store_block_partial(y + i, n - i, va);
  }
}

// y = silu(gate) * up, as the reference forward pass.
template <class F>
void silu_mul_f32_body(const float* gate, const float* up, std::size_t n, float* y) {
  binary_f32_body<F>(gate, up, n, y, [](const F& g, const F& u) { return silu_v(g) * u; });
}

template <class F>
void add_f32_body(const float* a, const float* b, std::size_t n, float* y) {
  binary_f32_body<F>(a, b, n, y, [](const F& u, const F& v) { return u + v; });
}

}  // namespace
}  // namespace lpu::kernels
