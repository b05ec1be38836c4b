#pragma once
// lpu::TokenId: the integer type of a vocabulary index.

#include <cstdint>

namespace lpu {

/// Index of a token in the model's vocabulary (0 .. n_vocab-1 when valid).
using TokenId = std::int32_t;

}  // namespace lpu
