#pragma once
// Rotary position embedding, in place over the heads of one token.
//
// The cos/sin table of a position holds, for pair i = 0 .. n_dims/2 - 1,
// cos_sin[2i] = cos(angle_i) * mscale and cos_sin[2i + 1] = sin(angle_i) *
// mscale, computed once per position and shared by every head and layer.
// Pair i rotates (x0, x1) to (x0 c - x1 s, x0 s + x1 c). Elements from
// n_dims to head_dim are left unchanged (partial rotary). n_dims must be even
// and at most head_dim (an odd last element is left unchanged).

#include <cstddef>
#include <cstdint>

namespace lpu::kernels {

/// Fills cos_sin (n_dims floats) for position pos with angle_i = pos *
/// theta_scale^i, built by repeated float multiplication as the reference
/// forward pass (and llama.cpp) do, theta_scale = base^(-2 / n_dims), each
/// cos and sin multiplied by mscale (the attention factor, usually 1); cos
/// and sin from kernels/math/math.h, so a table is the same on every host.
void rope_cache_f32(std::int64_t pos, std::size_t n_dims, float theta_scale, float mscale,
                    float* cos_sin);

/// Fills cos_sin (2 * n_pairs floats) from explicit angles (YaRN, frequency
/// factors), each cos and sin multiplied by mscale.
void rope_cache_from_angles_f32(const float* angles, std::size_t n_pairs, float mscale,
                                float* cos_sin);

/// NORM mode: pairs of adjacent elements (2i, 2i + 1) of each head
/// (llama.cpp's LLAMA_ROPE_TYPE_NORM, used by Llama and Mixtral). Portable path.
void rope_norm_f32_x16_portable(float* x, std::size_t n_heads, std::size_t head_dim,
                                std::size_t n_dims, const float* cos_sin);
/// NORM mode, AVX2 path; requires an AVX2 host.
void rope_norm_f32_x16_avx2(float* x, std::size_t n_heads, std::size_t head_dim, std::size_t n_dims,
                            const float* cos_sin);
/// NORM mode, AVX-512 path; requires an AVX-512F host.
void rope_norm_f32_x16_avx512f(float* x, std::size_t n_heads, std::size_t head_dim,
                               std::size_t n_dims, const float* cos_sin);

/// NEOX mode: pairs (i, i + n_dims/2) of each head (llama.cpp's
/// LLAMA_ROPE_TYPE_NEOX: Qwen, Phi, GPT-NeoX). Portable path.
void rope_neox_f32_x16_portable(float* x, std::size_t n_heads, std::size_t head_dim,
                                std::size_t n_dims, const float* cos_sin);
/// NEOX mode, AVX2 path; requires an AVX2 host.
void rope_neox_f32_x16_avx2(float* x, std::size_t n_heads, std::size_t head_dim, std::size_t n_dims,
                            const float* cos_sin);
/// NEOX mode, AVX-512 path; requires an AVX-512F host.
void rope_neox_f32_x16_avx512f(float* x, std::size_t n_heads, std::size_t head_dim,
                               std::size_t n_dims, const float* cos_sin);

}  // namespace lpu::kernels
