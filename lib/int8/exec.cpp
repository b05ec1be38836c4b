#include "lib/int8/exec.h"

#include <algorithm>

#include "kernels/gemm/matmul_s8.h"
#include "kernels/quantize/quantize.h"

namespace lpu::int8 {
namespace {

// Rows per quantisation task: enough work per task (16 rows of n_embd or
// n_ff floats) that scheduling costs little.
constexpr std::size_t kQuantizeRowsPerTask = 16;

}  // namespace

void quantize(const Exec& e, const float* x, std::size_t x_stride, kernels::QuantizedRows& out) {
  const std::size_t rows = out.rows();
  const std::size_t tasks = (rows + kQuantizeRowsPerTask - 1) / kQuantizeRowsPerTask;
  kernels::run_tasks(e.pool, tasks, [&](std::size_t t) {
    const std::size_t first = t * kQuantizeRowsPerTask;
    const std::size_t count = std::min(kQuantizeRowsPerTask, rows - first);
    kernels::quantize_rows(x + first * x_stride, x_stride, out, first, count, e.int8);
  });
}

void matmul(const Exec& e, const kernels::PackedWeights& w, const kernels::QuantizedRows& x,
            float* y, std::size_t y_stride) {
  kernels::MatmulOptions options;
  options.pool = e.pool;
  options.kernels = e.int8;
  options.y_stride = y_stride;
  kernels::matmul_s8(w, x, y, options);
}

}  // namespace lpu::int8
