#pragma once
// The MoE router: softmax over the expert logits, the k most probable
// experts (ties to the lower index), and optionally their probabilities
// renormalised to sum to one.

#include <cstddef>
#include <cstdint>

namespace lpu::kernels {

/// Writes to experts[0..k) the indices of the k largest probs in rank order:
/// larger probability first, equal probabilities by ascending index, NaN
/// after every number. With normalize, weights[j] = probs[experts[j]] /
/// max(float(sum), 2^-14), the sum of the chosen probabilities taken in
/// double in rank order (the reference forward pass's rule, llama.cpp's
/// clamp); otherwise weights[j] = probs[experts[j]]. k is clamped to n;
/// O(n * k) and allocation-free.
void topk_select_f32(const float* probs, std::size_t n, std::size_t k, bool normalize,
                     std::int32_t* experts, float* weights);

/// softmax_f32_x16_portable(logits -> probs, n_experts values), then
/// topk_select_f32. Portable path.
void router_topk_f32_x16_portable(const float* logits, std::size_t n_experts, std::size_t k,
                                  bool normalize, float* probs, std::int32_t* experts,
                                  float* weights);
/// AVX2 path; requires an AVX2 host.
void router_topk_f32_x16_avx2(const float* logits, std::size_t n_experts, std::size_t k,
                              bool normalize, float* probs, std::int32_t* experts, float* weights);
/// AVX-512 path; requires an AVX-512F host.
void router_topk_f32_x16_avx512f(const float* logits, std::size_t n_experts, std::size_t k,
                                 bool normalize, float* probs, std::int32_t* experts,
                                 float* weights);

}  // namespace lpu::kernels
