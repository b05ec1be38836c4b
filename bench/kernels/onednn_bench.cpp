// oneDNN baselines (Debian's libdnnl-dev), the fastest int8 paths measured
// on the reference machine: dnnl_gemm_u8s8s32 with the weights stored
// N x K for GEMV-like M, the matmul primitive with weights reordered once
// into its own blocked format (format_tag::any) for GEMM. Both produce
// int32 without any rescale: less work than our fused fp32 epilogue.

#include <oneapi/dnnl/dnnl.h>
#include <oneapi/dnnl/dnnl_version.h>
#include <oneapi/dnnl/dnnl.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "bench/kernels/bench_util.h"
#include "bench/kernels/register.h"

#if LPU_BENCH_HAVE_OPENMP
#include <omp.h>
#endif

namespace lpu::bench {
namespace {

// oneDNN threads through OpenMP here; pin it to the same thread count.
void set_onednn_threads() {
#if LPU_BENCH_HAVE_OPENMP
  omp_set_num_threads(kThreads);
#endif
}

std::vector<std::uint8_t> random_u8(std::size_t count) {
  std::vector<std::uint8_t> v(count);
  fill_random_bytes(v.data(), v.size(), 11);
  return v;
}

void bm_gemm_u8s8s32(benchmark::State& state, Shape s, std::size_t m, bool dram) {
  set_onednn_threads();
  CycledSet<kernels::AlignedBuffer>& set = s8_nk_set(s);
  const std::vector<std::uint8_t> a = random_u8(m * s.k);
  std::vector<std::int32_t> c(m * s.n);
  const std::int32_t co = 0;
  const auto mm = static_cast<dnnl_dim_t>(m);
  const auto n = static_cast<dnnl_dim_t>(s.n);
  const auto k = static_cast<dnnl_dim_t>(s.k);
  const auto start = std::chrono::steady_clock::now();
  for (auto _ : state) {
    const kernels::AlignedBuffer& w = dram ? set.advance() : set.items[0];
    // Row-major C[m][n] = A[m][k] * B^T, B stored N x K (ldb = K).
    const dnnl_status_t st = dnnl_gemm_u8s8s32('N', 'T', 'F', mm, n, k, 1.0f, a.data(), k, 0,
                                               reinterpret_cast<const std::int8_t*>(w.data()), k, 0,
                                               0.0f, c.data(), n, &co);
    if (st != dnnl_success) {
      state.SkipWithError("dnnl_gemm_u8s8s32 failed");
      return;
    }
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  const double seconds = seconds_since(start);
  set_counters(state,
               Work{static_cast<double>(s.n * s.k), 2.0 * static_cast<double>(m * s.n * s.k)},
               seconds);
}

void bm_matmul(benchmark::State& state, Shape s, std::size_t m) {
  set_onednn_threads();
  using dt = dnnl::memory::data_type;
  using tag = dnnl::memory::format_tag;
  CycledSet<kernels::AlignedBuffer>& set = s8_nk_set(s);
  std::vector<std::uint8_t> a = random_u8(m * s.k);
  std::vector<std::int32_t> c(m * s.n);
  const auto mm = static_cast<dnnl::memory::dim>(m);
  const auto n = static_cast<dnnl::memory::dim>(s.n);
  const auto k = static_cast<dnnl::memory::dim>(s.k);
  try {
    dnnl::engine engine(dnnl::engine::kind::cpu, 0);
    dnnl::stream stream(engine);
    const dnnl::memory::desc src_md({mm, k}, dt::u8, tag::ab);
    const dnnl::memory::desc wei_any({k, n}, dt::s8, tag::any);
    const dnnl::memory::desc dst_md({mm, n}, dt::s32, tag::ab);
    const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(src_md, wei_any, dst_md), engine);
    // The user's weights: logically K x N, stored N x K ("ba").
    dnnl::memory user_w({{k, n}, dt::s8, tag::ba}, engine, set.items[0].data());
    dnnl::memory packed_w(pd.weights_desc(), engine);
    dnnl::reorder(user_w, packed_w).execute(stream, user_w, packed_w);
    stream.wait();
    dnnl::memory src(src_md, engine, a.data());
    dnnl::memory dst(dst_md, engine, c.data());
    const dnnl::matmul prim(pd);
    const auto start = std::chrono::steady_clock::now();
    for (auto _ : state) {
      prim.execute(stream,
                   {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, packed_w}, {DNNL_ARG_DST, dst}});
      stream.wait();
      benchmark::DoNotOptimize(c.data());
      benchmark::ClobberMemory();
    }
    const double seconds = seconds_since(start);
    set_counters(state,
                 Work{static_cast<double>(pd.weights_desc().get_size()),
                      2.0 * static_cast<double>(m * s.n * s.k)},
                 seconds);
  } catch (const dnnl::error& e) {
    state.SkipWithError(e.what());
  }
}

}  // namespace

bool register_onednn_benchmarks(Shape s) {
  const std::string shape = shape_name(s);
  for (const std::size_t m : {std::size_t{1}, std::size_t{4}, std::size_t{16}}) {
    add_benchmark("onednn/gemm_u8s8s32/" + shape + "/m" + std::to_string(m) + "/dram",
                  [=](benchmark::State& st) { bm_gemm_u8s8s32(st, s, m, true); });
  }
  add_benchmark("onednn/gemm_u8s8s32/" + shape + "/m1",
                [=](benchmark::State& st) { bm_gemm_u8s8s32(st, s, 1, false); });
  for (const std::size_t m : {std::size_t{128}, std::size_t{512}}) {
    add_benchmark("onednn/matmul/" + shape + "/m" + std::to_string(m),
                  [=](benchmark::State& st) { bm_matmul(st, s, m); });
  }
  return true;
}

std::string onednn_version() {
  return std::to_string(DNNL_VERSION_MAJOR) + "." + std::to_string(DNNL_VERSION_MINOR) + "." +
         std::to_string(DNNL_VERSION_PATCH);
}

}  // namespace lpu::bench
