#pragma once
// RoPE bodies, instantiated once per ISA (kernels/float/float_kernels_*.cpp).
// A pair (x0, x1) with angle a becomes (x0 c - x1 s, x0 s + x1 c), c and s
// read from the cos/sin table of kernels/rope/rope.h.

#include <cstddef>

#include "kernels/float/lanes16-inl.h"
#include "kernels/math/vec.h"

namespace lpu::kernels {
namespace {

inline constexpr float kAlternatingSign[kBlock] = {-1, 1, -1, 1, -1, 1, -1, 1,
                                                   -1, 1, -1, 1, -1, 1, -1, 1};

// Rotates the 8 adjacent pairs of one block, cs holding c0 s0 c1 s1 ...
// Vectors use x * [c c] + swap(x) * [-s s]; x1 * -s is exactly -(x1 * s) and
// addition commutes, so this is x0 c - x1 s and x0 s + x1 c bit for bit. The
// scalar path spells out the same products and additions rather than a
// subtraction: GCC 12, when allowed FMA (-march=native), turns a vectorised
// sub/add pair into vfmaddsub despite -ffp-contract=off.
template <class F>
void rotate_adjacent_pairs(F* xb, const F* cs) {
  if constexpr (vec::kLanesOf<F> == 1) {
    for (std::size_t k = 0; k < kBlock; k += 2) {
      const F c = cs[k];
      const F s = cs[k + 1];
      const F x0 = xb[k];
      const F x1 = xb[k + 1];
      xb[k] = x0 * c + x1 * -s;
      xb[k + 1] = x1 * c + x0 * s;
    }
  } else {
    const F sign = vec::load<F>(kAlternatingSign);
    for (std::size_t k = 0; k < kVecsPerBlock<F>; ++k) {
      const F c = vec::dup_even(cs[k]);
      const F s = vec::dup_odd(cs[k]) * sign;
      xb[k] = xb[k] * c + vec::swap_pairs(xb[k]) * s;
    }
  }
}

template <class F>
void rope_norm_f32_body(float* x, std::size_t n_heads, std::size_t head_dim, std::size_t n_dims,
                        const float* cos_sin) {
  constexpr std::size_t kV = kVecsPerBlock<F>;
  n_dims = (n_dims < head_dim ? n_dims : head_dim) & ~std::size_t{1};
  F xb[kV];
  F cs[kV];
  for (std::size_t h = 0; h < n_heads; ++h) {
    float* v = x + h * head_dim;
    std::size_t i = 0;
    for (; i + kBlock <= n_dims; i += kBlock) {
      load_block(v + i, xb);
      load_block(cos_sin + i, cs);
      rotate_adjacent_pairs(xb, cs);
      store_block(v + i, xb);
    }
    if (i < n_dims) {
      load_block_partial(v + i, n_dims - i, 0.0f, xb);
      load_block_partial(cos_sin + i, n_dims - i, 0.0f, cs);
      rotate_adjacent_pairs(xb, cs);
      store_block_partial(v + i, n_dims - i, xb);
    }
  }
}

// Rotates 16 pairs (x0[k], x1[k]) given c and s for each.
template <class F>
void rotate_split_pairs(F* x0, F* x1, const F* c, const F* s) {
  for (std::size_t k = 0; k < kVecsPerBlock<F>; ++k) {
    const F a = x0[k];
    const F b = x1[k];
    x0[k] = a * c[k] - b * s[k];
    x1[k] = a * s[k] + b * c[k];
  }
}

// Blocks of 16 pairs outermost, so each block's c and s are gathered out of
// the interleaved table once for all heads.
template <class F>
void rope_neox_f32_body(float* x, std::size_t n_heads, std::size_t head_dim, std::size_t n_dims,
                        const float* cos_sin) {
  constexpr std::size_t kV = kVecsPerBlock<F>;
  const std::size_t half = (n_dims < head_dim ? n_dims : head_dim) / 2;
  F x0[kV];
  F x1[kV];
  F c[kV];
  F s[kV];
  for (std::size_t i = 0; i < half; i += kBlock) {
    const std::size_t count = half - i < kBlock ? half - i : kBlock;
    float cb[kBlock] = {};
    float sb[kBlock] = {};
    for (std::size_t k = 0; k < count; ++k) {
      cb[k] = cos_sin[2 * (i + k)];
      sb[k] = cos_sin[2 * (i + k) + 1];
    }
    load_block(cb, c);
    load_block(sb, s);
    for (std::size_t h = 0; h < n_heads; ++h) {
      float* lo = x + h * head_dim + i;
      float* hi = lo + half;
      if (count == kBlock) {
        load_block(lo, x0);
        load_block(hi, x1);
        rotate_split_pairs(x0, x1, c, s);
        store_block(lo, x0);
        store_block(hi, x1);
      } else {
        load_block_partial(lo, count, 0.0f, x0);
        load_block_partial(hi, count, 0.0f, x1);
        rotate_split_pairs(x0, x1, c, s);
        store_block_partial(lo, count, x0);
        store_block_partial(hi, count, x1);
      }
    }
  }
}

}  // namespace
}  // namespace lpu::kernels
