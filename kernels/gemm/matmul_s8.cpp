#include "kernels/gemm/matmul_s8.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "kernels/dispatch/check.h"
#include "kernels/gemm/matmul_views.h"

namespace lpu::kernels {
namespace {

// GEMV tasks: about 128 KiB of weights each (long enough that scheduling
// costs little against streaming them), but at least 16 tasks when the
// matrix allows, so two threads stay balanced on small matrices.
constexpr std::size_t kGemvTaskBytes = 128 * 1024;
constexpr std::size_t kGemvMinTasks = 16;
// GEMM blocks: 6 panels (96 columns) by up to 128 rows. Per group, the
// block's weights (6 x 4 KiB at G = 256) and its rows' activations
// (128 x 256 B) stay in L2 with their fp32 sums (48 KiB), and a 3-panel
// tile's weights stay in L1 while the row tiles pass. 128 rows read each
// weight byte from memory once at M <= 128; against 64-row blocks with
// all prefetches issued at the start of a group, this was 7% faster at
// M = 128 on one thread and the same on two (4096 x 4096, shared Xeon).
constexpr std::size_t kGemmBlockPanels = 6;
constexpr std::size_t kGemmBlockRows = 128;
// Groups per tile call: about 256 k (8 groups at G = 32, 1 at G >= 256), so
// small groups do not pay a call and its set-up each.
constexpr std::size_t kGemmCallK = 256;

struct Problem {
  const PackedView& w;
  const QuantizedView& x;
  float* y;
  std::size_t y_stride;
  const GemmKernelSet& kernels;
};

std::size_t panel_columns(const PackedView& w, std::size_t p) {
  return std::min(kPanelColumns, w.n - p * kPanelColumns);
}

void run_gemv(const Problem& pr, ThreadPool* pool) {
  const PackedView& w = pr.w;
  const std::size_t by_bytes = (kGemvTaskBytes + w.panel_bytes - 1) / w.panel_bytes;
  const std::size_t per_task =
      std::clamp<std::size_t>(by_bytes, 1, std::max<std::size_t>(1, w.panels / kGemvMinTasks));
  const std::size_t tasks = (w.panels + per_task - 1) / per_task;
  const GemvFn fn = pr.kernels.gemv[pr.x.rows - 1];
  GemvArgs base{};
  base.group_bytes = w.group_bytes;
  base.groups = w.groups;
  base.group_quads = w.group_quads(0);
  base.last_quads = w.group_quads(w.groups - 1);
  base.x = pr.x.row(0);
  base.x_stride = pr.x.stride;
  base.group_size = w.group_size;
  base.x_scales = pr.x.row_scales(0);
  base.x_sums = pr.x.row_sums(0);
  base.y_stride = pr.y_stride;
  run_tasks(pool, tasks, [&](std::size_t t) {
    GemvArgs a = base;
    const std::size_t end = std::min(w.panels, (t + 1) * per_task);
    for (std::size_t p = t * per_task; p < end; ++p) {
      a.panel = w.group_block(p, 0);
      a.y = pr.y + p * kPanelColumns;
      a.columns = panel_columns(w, p);
      fn(a);
    }
  });
}

// Prefetches, into L2, the weights of a block's next run of groups: a
// slice after every tile call, so they arrive while this run computes.
// Issued all at once, the requests would fill the core's line-fill buffers
// and stall the tiles' own loads behind them.
class NextRunPrefetch {
 public:
  // Panels [p0, p0 + panels), groups [g, g + groups), over `calls` slices.
  NextRunPrefetch(const PackedView& w, std::size_t p0, std::size_t panels, std::size_t g,
                  std::size_t groups, std::size_t calls)
      : w_(w), p0_(p0), g_(g), run_lines_(groups * w.group_bytes / kVectorBytes) {
    total_ = panels * run_lines_;
    per_call_ = (total_ + calls - 1) / calls;
  }

  void step() {
    const std::size_t end = std::min(total_, next_ + per_call_);
    for (; next_ < end; ++next_) {
      const std::uint8_t* line =
          w_.group_block(p0_ + next_ / run_lines_, g_) + (next_ % run_lines_) * kVectorBytes;
      __builtin_prefetch(line, 0, 2);  // read, into L2 (prefetcht1)
    }
  }

 private:
  const PackedView& w_;
  std::size_t p0_;
  std::size_t g_;
  std::size_t run_lines_;
  std::size_t total_ = 0;
  std::size_t per_call_ = 0;
  std::size_t next_ = 0;
};

// Groups [g0, g1) over a block: each panel tile of the block (widest
// first, the last one narrower) against every row tile of 8 (the last one
// shorter), so the panel tile's weights stay in L1 while the rows pass.
void gemm_block_groups(const Problem& pr, std::size_t r0, std::size_t rows, std::size_t p0,
                       std::size_t panels, std::size_t g0, std::size_t g1, float* acc) {
  const std::size_t width = panels * kPanelColumns;
  const PackedView& w = pr.w;
  const std::size_t max_panels = static_cast<std::size_t>(pr.kernels.max_panels);
  const std::size_t calls =
      ((panels + max_panels - 1) / max_panels) * ((rows + kMaxTileRows - 1) / kMaxTileRows);
  const std::size_t next_groups = std::min(w.groups, g1 + (g1 - g0)) - std::min(w.groups, g1);
  NextRunPrefetch prefetch(w, p0, panels, g1, next_groups, calls);
  GemmTileArgs a{};
  a.w_group_bytes = w.group_bytes;
  a.groups = g1 - g0;
  a.group_size = w.group_size;
  a.group_quads = w.group_quads(g0);
  a.last_quads = w.group_quads(g1 - 1);
  for (std::size_t pt = 0; pt < panels;) {
    const std::size_t np = std::min(max_panels, panels - pt);
    for (std::size_t j = 0; j < np; ++j) a.w[j] = w.group_block(p0 + pt + j, g0);
    for (std::size_t mt = 0; mt < rows; mt += kMaxTileRows) {
      const std::size_t mr = std::min<std::size_t>(kMaxTileRows, rows - mt);
      for (std::size_t i = 0; i < mr; ++i) {
        const std::size_t r = r0 + mt + i;
        a.x[i] = pr.x.row(r) + g0 * w.group_size;
        a.x_sums[i] = pr.x.row_sums(r) + g0;
        a.x_scales[i] = pr.x.row_scales(r) + g0;
        a.acc[i] = acc + (mt + i) * width + pt * kPanelColumns;
      }
      pr.kernels.gemm[mr - 1][np - 1](a);
      prefetch.step();
    }
    pt += np;
  }
}

void run_gemm(const Problem& pr, ThreadPool* pool) {
  const PackedView& w = pr.w;
  const std::size_t m = pr.x.rows;
  const std::size_t col_blocks = (w.panels + kGemmBlockPanels - 1) / kGemmBlockPanels;
  const std::size_t row_blocks = (m + kGemmBlockRows - 1) / kGemmBlockRows;
  const std::size_t groups_per_call = std::max<std::size_t>(1, kGemmCallK / w.group_size);
  run_tasks(pool, col_blocks * row_blocks, [&](std::size_t t) {
    const std::size_t p0 = (t / row_blocks) * kGemmBlockPanels;
    const std::size_t r0 = (t % row_blocks) * kGemmBlockRows;
    const std::size_t panels = std::min(kGemmBlockPanels, w.panels - p0);
    const std::size_t rows = std::min(kGemmBlockRows, m - r0);
    const std::size_t width = panels * kPanelColumns;
    thread_local std::vector<float> scratch;
    scratch.assign(rows * width, 0.0f);
    for (std::size_t g = 0; g < w.groups; g += groups_per_call) {
      gemm_block_groups(pr, r0, rows, p0, panels, g, std::min(w.groups, g + groups_per_call),
                        scratch.data());
    }
    const std::size_t cols = std::min(width, w.n - p0 * kPanelColumns);
    for (std::size_t i = 0; i < rows; ++i) {
      std::memcpy(pr.y + (r0 + i) * pr.y_stride + p0 * kPanelColumns, scratch.data() + i * width,
                  cols * sizeof(float));
    }
  });
}

}  // namespace

void matmul_s8(const PackedView& w, const QuantizedView& x, float* y,
               const MatmulOptions& options) {
  LPU_KERNEL_CHECK(x.rows == 0 || (x.k == w.k && x.group_size == w.group_size),
                   "activations and weights differ in k or group size");
  const std::size_t y_stride = options.y_stride != 0 ? options.y_stride : w.n;
  LPU_KERNEL_CHECK(y_stride >= w.n, "y_stride shorter than a row of y");
  if (x.rows == 0 || w.panels == 0) return;
  const Int8Kernels& k = options.kernels != nullptr ? *options.kernels : int8_kernels();
  const Problem pr{w, x, y, y_stride, *k.gemm};
  if (x.rows <= static_cast<std::size_t>(kMaxTileRows)) {
    run_gemv(pr, options.pool);
  } else {
    run_gemm(pr, options.pool);
  }
}

void matmul_s8(const PackedWeights& w, const QuantizedRows& x, float* y,
               const MatmulOptions& options) {
  matmul_s8(packed_view(w), quantized_view(x), y, options);
}

PackedView packed_view(const PackedWeights& w) {
  PackedView v;
  v.data = w.data();
  v.n = w.n();
  v.k = w.k();
  v.group_size = w.group_size();
  v.groups = w.groups();
  v.panels = w.panels();
  v.group_bytes = w.group_bytes();
  v.last_quads = w.group_quads(w.groups() - 1);
  v.panel_bytes = w.panel_bytes();
  return v;
}

PackedView packed_view(const std::uint8_t* data, std::size_t n, std::size_t k, std::size_t group_size) {
  PackedView v;
  v.data = data;
  v.n = n;
  v.k = k;
  v.group_size = group_size;
  v.groups = (k + group_size - 1) / group_size;
  v.panels = (n + kPanelColumns - 1) / kPanelColumns;
  v.group_bytes = kVectorBytes + (group_size / kQuadK) * kVectorBytes;
  const std::size_t last_len = k - (v.groups - 1) * group_size;
  v.last_quads = (last_len + kQuadK - 1) / kQuadK;
  v.panel_bytes = (v.groups - 1) * v.group_bytes + kVectorBytes + v.last_quads * kVectorBytes;
  return v;
}

std::size_t packed_bytes(std::size_t n, std::size_t k, std::size_t group_size) {
  const PackedView v = packed_view(nullptr, n, k, group_size);
  return v.panels * v.panel_bytes;
}

QuantizedView quantized_view(const QuantizedRows& x) {
  QuantizedView v;
  v.q = x.rows() == 0 ? nullptr : x.row(0);
  v.stride = x.stride();
  v.rows = x.rows();
  v.k = x.k();
  v.group_size = x.group_size();
  v.groups = x.groups();
  v.scales = x.rows() == 0 ? nullptr : x.scales(0);
  v.sums = x.rows() == 0 ? nullptr : x.sums(0);
  return v;
}

}  // namespace lpu::kernels
