#pragma once
// matmul_s8: y[m][n] = sum over k of x[m][k] * W[n][k] in the int8 scheme
// (docs/quantization.md), for any number of rows m.
//
// m <= 8 (decode) runs the gemv_s8s8s32_{m}x16c4 kernel: every weight byte
// is streamed once, linearly, for all rows together. m > 8 (prefill) runs
// the gemm tiles (8 x 48 on AVX-512, with smaller tiles for the edges)
// group by group over blocks of 96 columns, whose weights stay in L1 while
// the rows pass. Work is split into tasks by columns (and by blocks of 128
// rows) with boundaries fixed by the shape alone, and every element is the
// same ascending-group fma chain whichever kernel, tile, task or thread
// computes it: results are bit-identical for any thread count, any ISA and
// any position of a row in the batch.

#include <cstddef>

#include "kernels/dispatch/int8_kernels.h"
#include "kernels/dispatch/thread_pool.h"
#include "kernels/gemm/matmul_views.h"
#include "kernels/pack/packed_weights.h"
#include "kernels/quantize/quantized_rows.h"

namespace lpu::kernels {

struct MatmulOptions {
  /// Worker threads; null runs on the calling thread.
  ThreadPool* pool = nullptr;
  /// Kernel path; null means int8_kernels() (the active ISA).
  const Int8Kernels* kernels = nullptr;
  /// Floats between rows of y; 0 means w.n().
  std::size_t y_stride = 0;
};

/// y[m][n] for m < x.rows(), n < w.n(). x.k() and x.group_size() must
/// equal the weights'; y must hold x.rows() rows of y_stride floats (only
/// the first w.n() of each row are written).
void matmul_s8(const PackedWeights& w, const QuantizedRows& x, float* y,
               const MatmulOptions& options = {});
/// The same on views (the bytes live elsewhere, e.g. in an SRAM image).
void matmul_s8(const PackedView& w, const QuantizedView& x, float* y,
               const MatmulOptions& options = {});

}  // namespace lpu::kernels
