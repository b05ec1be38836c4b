#pragma once
// What every step of the int8 forward pass runs with: the model's shape,
// the kernel tables of one ISA, the thread pool and the session's options,
// plus the two int8 primitives every step uses (row quantisation and the
// weight matmul), split over threads only by shape.

#include <cstddef>
#include <span>

#include "include/lpu/int8_session.h"
#include "include/lpu/model.h"
#include "include/lpu/token.h"
#include "kernels/dispatch/int8_kernels.h"
#include "kernels/dispatch/thread_pool.h"
#include "kernels/float/float_kernels.h"
#include "kernels/pack/packed_weights.h"
#include "kernels/quantize/quantized_rows.h"

namespace lpu::int8 {

class KvCache;

struct Exec {
  const ModelConfig* config = nullptr;
  const kernels::Int8Kernels* int8 = nullptr;
  const kernels::FloatKernels* fp = nullptr;
  /// Null or a pool; tasks are split by shape alone.
  kernels::ThreadPool* pool = nullptr;
  /// G of the weights and activations.
  std::size_t group_size = 0;
};

/// One sequence's new tokens in a batch step: rows [row0, row0 + n) of the
/// step's activations, at positions pos0, pos0 + 1, ... of `cache`.
struct EntryPlan {
  KvCache* cache = nullptr;
  std::span<const TokenId> tokens;
  int pos0 = 0;
  std::size_t row0 = 0;
};

/// Quantises out.rows() rows of out.k() floats (`x_stride` apart) into
/// `out`, in blocks of rows on the pool (each row is quantised alone).
void quantize(const Exec& e, const float* x, std::size_t x_stride, kernels::QuantizedRows& out);

/// y = x W^T through kernels::matmul_s8 (y rows `y_stride` floats apart;
/// 0 means w.n()).
void matmul(const Exec& e, const kernels::PackedWeights& w, const kernels::QuantizedRows& x,
            float* y, std::size_t y_stride = 0);

/// n rounded up to a multiple of m.
constexpr std::size_t round_up(std::size_t n, std::size_t m) { return (n + m - 1) / m * m; }

}  // namespace lpu::int8
