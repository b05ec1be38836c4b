#pragma once
// Causal grouped-query attention of a batch step's new tokens over their
// sequences' KV caches (which already hold them), as the reference pass
// computes it (scores scaled by 1/sqrt(head_dim), softmax, weighted sum of
// values; query head h reads KV head h / (n_head / n_head_kv)), with QK^T
// and PV as int8 GEMVs on the cache (int8 KV) or fp32 dots in a fixed
// order (fp16 KV). One task per (token, KV head), each writing only its
// own heads' outputs, so neither threads nor batch neighbours change a bit.

#include <cstddef>
#include <span>

#include "lib/int8/exec.h"

namespace lpu::int8 {

/// For layer `il`: q holds one row per batch token (rows `q_stride` floats
/// apart, n_head * head_dim rotated query values first); out gets one row
/// of n_head * head_dim per token (rows `out_stride` apart).
void attention(const Exec& e, int il, std::span<const EntryPlan> entries, const float* q,
               std::size_t q_stride, float* out, std::size_t out_stride);

}  // namespace lpu::int8
