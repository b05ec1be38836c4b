// naive/: the plain loop a first implementation would write: one int32
// dot product per output over int8 weights stored N x K, split over the
// same threads. The compiler vectorises it for the baseline ISA only.

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "bench/kernels/bench_util.h"
#include "bench/kernels/register.h"

namespace lpu::bench {
namespace {

constexpr std::size_t kTasks = 16;

void naive_gemv(const std::int8_t* w, const std::int8_t* x, std::int32_t* y, std::size_t n0,
                std::size_t n1, std::size_t k) {
  for (std::size_t n = n0; n < n1; ++n) {
    const std::int8_t* row = w + n * k;
    std::int32_t acc = 0;
    for (std::size_t i = 0; i < k; ++i) acc += static_cast<std::int32_t>(row[i]) * x[i];
    y[n] = acc;
  }
}

void bm_naive_gemv(benchmark::State& state, Shape s) {
  CycledSet<kernels::AlignedBuffer>& set = s8_nk_set(s);
  std::vector<std::int8_t> x(s.k);
  fill_random_bytes(reinterpret_cast<std::uint8_t*>(x.data()), x.size(), 13);
  std::vector<std::int32_t> y(s.n);
  const std::size_t per_task = (s.n + kTasks - 1) / kTasks;
  const auto start = std::chrono::steady_clock::now();
  for (auto _ : state) {
    const auto* w = reinterpret_cast<const std::int8_t*>(set.advance().data());
    bench_pool().run(kTasks, [&](std::size_t t) {
      naive_gemv(w, x.data(), y.data(), t * per_task, std::min(s.n, (t + 1) * per_task), s.k);
    });
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  const double seconds = seconds_since(start);
  set_counters(state, Work{static_cast<double>(s.n * s.k), 2.0 * static_cast<double>(s.n * s.k)},
               seconds);
}

}  // namespace

void register_naive_benchmarks(Shape s) {
  add_benchmark("naive/gemv/" + shape_name(s) + "/m1/dram",
                [=](benchmark::State& st) { bm_naive_gemv(st, s); });
}

}  // namespace lpu::bench
