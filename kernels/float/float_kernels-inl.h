#pragma once
// Defines the named float kernels of one ISA from the shared bodies. Each
// kernels/float/float_kernels_<isa>.cpp includes this once with its vector
// type; for the SIMD ISAs kernels/math/vec_xsimd.h must come first, because
// the bodies call vec:: operations by qualified name, which binds to the
// overloads declared before them.

#include "kernels/activation/activation-inl.h"
#include "kernels/activation/add.h"
#include "kernels/activation/silu_mul.h"
#include "kernels/math/exp.h"
#include "kernels/math/exp_kernel-inl.h"
#include "kernels/float/row_max-inl.h"
#include "kernels/float/row_max.h"
#include "kernels/norm/rmsnorm-inl.h"
#include "kernels/norm/rmsnorm.h"
#include "kernels/rope/rope-inl.h"
#include "kernels/rope/rope.h"
#include "kernels/softmax/softmax-inl.h"
#include "kernels/softmax/softmax.h"
#include "kernels/topk/router_topk.h"

// NOLINTBEGIN(bugprone-macro-parentheses)
#define LPU_DEFINE_FLOAT_KERNELS(F, isa)                                                        \
  void exp_f32_x16_##isa(const float* x, std::size_t n, float* y) { exp_f32_body<F>(x, n, y); } \
  void rmsnorm_f32_x16_##isa(const float* x, const float* weight, std::size_t n, float eps,     \
                             float* y) {                                                        \
    rmsnorm_f32_body<F>(x, weight, n, eps, y);                                                  \
  }                                                                                             \
  void softmax_f32_x16_##isa(const float* x, std::size_t n, float* y) {                         \
    softmax_f32_body<F>(x, n, y);                                                               \
  }                                                                                             \
  void silu_mul_f32_x16_##isa(const float* gate, const float* up, std::size_t n, float* y) {    \
    silu_mul_f32_body<F>(gate, up, n, y);                                                       \
  }                                                                                             \
  void add_f32_x16_##isa(const float* a, const float* b, std::size_t n, float* y) {             \
    add_f32_body<F>(a, b, n, y);                                                                \
  }                                                                                             \
  float max_f32_x16_##isa(const float* x, std::size_t n) { return max_f32_body<F>(x, n); }      \
  void rope_norm_f32_x16_##isa(float* x, std::size_t n_heads, std::size_t head_dim,             \
                               std::size_t n_dims, const float* cos_sin) {                      \
    rope_norm_f32_body<F>(x, n_heads, head_dim, n_dims, cos_sin);                               \
  }                                                                                             \
  void rope_neox_f32_x16_##isa(float* x, std::size_t n_heads, std::size_t head_dim,             \
                               std::size_t n_dims, const float* cos_sin) {                      \
    rope_neox_f32_body<F>(x, n_heads, head_dim, n_dims, cos_sin);                               \
  }                                                                                             \
  void router_topk_f32_x16_##isa(const float* logits, std::size_t n_experts, std::size_t k,     \
                                 bool normalize, float* probs, std::int32_t* experts,           \
                                 float* weights) {                                              \
    softmax_f32_body<F>(logits, n_experts, probs);                                              \
    topk_select_f32(probs, n_experts, k, normalize, experts, weights);                          \
  }
// NOLINTEND(bugprone-macro-parentheses)
