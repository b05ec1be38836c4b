#pragma once
// One batch step of the int8 forward pass: every entry's new tokens
// through the layers, reading and extending each entry's KV cache. The
// graph is the reference pass's (lib/reference/forward.h):
//   x = embed(tokens)
//   per layer: h = rms_norm(x) * attn_norm
//              q, k, v = Wqkv h (int8); RoPE(q, k); store k, v in the cache
//              x += Wo attention(q, K, V)        (Wo in int8)
//              h = rms_norm(x) * ffn_norm
//              x += Wdown (silu(Wgate h) * Wup h) (dense, int8)
//                or the mixture of experts        (lib/int8/ffn.h)
//   hidden = rms_norm(x) * output_norm
// Weight matmuls see all the step's rows at once; every other operation
// works row by row (or per token and head), so a row's result does not
// depend on its neighbours.

#include <span>
#include <vector>

#include "lib/int8/exec.h"
#include "lib/int8/rope.h"
#include "lib/int8/weights.h"

namespace lpu::int8 {

/// Runs the entries (already validated; their rows consecutive from 0, in
/// order) and returns the final-normalised hidden states, one row of
/// n_embd per token.
std::vector<float> forward_hidden(const Exec& e, const Weights& w, const RopeAngles& rope,
                                  std::span<const EntryPlan> entries);

}  // namespace lpu::int8
