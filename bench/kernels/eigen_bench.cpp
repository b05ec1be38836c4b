// eigen/: fp32 GEMV and GEMM with Eigen on the same shapes, split over the
// same threads by output columns. This file alone is built with
// -march=native (bench/CMakeLists.txt): the baseline gets the best vector
// code Eigen has for this CPU, as a user building Eigen here would.

// Our threads split the work; Eigen must not start its own.
#define EIGEN_DONT_PARALLELIZE
#include <Eigen/Core>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "bench/kernels/bench_util.h"
#include "bench/kernels/register.h"

namespace lpu::bench {
namespace {

using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

constexpr std::size_t kTasks = 16;

// kDramBytes of copies of one random fp32 matrix W[n][k].
CycledSet<RowMatrix>& f32_set(Shape s) {
  return working_set<CycledSet<RowMatrix>>("f32/" + shape_name(s), [s] {
    const auto n = static_cast<Eigen::Index>(s.n);
    const auto k = static_cast<Eigen::Index>(s.k);
    CycledSet<RowMatrix> set;
    set.items.emplace_back(n, k);
    fill_random_floats(set.items[0].data(), s.n * s.k, 17);
    const std::size_t copies = dram_copies(s.n * s.k * sizeof(float));
    for (std::size_t c = 1; c < copies; ++c) set.items.push_back(set.items[0]);
    return set;
  });
}

// Columns [n0, n1) of task t: kTasks near-equal blocks, multiples of 16.
std::pair<Eigen::Index, Eigen::Index> task_columns(std::size_t n, std::size_t t) {
  const std::size_t per = (n / kTasks + 15) / 16 * 16;
  const std::size_t n0 = std::min(n, t * per);
  const std::size_t n1 = t + 1 == kTasks ? n : std::min(n, (t + 1) * per);
  return {static_cast<Eigen::Index>(n0), static_cast<Eigen::Index>(n1 - n0)};
}

void bm_eigen_gemv(benchmark::State& state, Shape s) {
  CycledSet<RowMatrix>& set = f32_set(s);
  Eigen::VectorXf x(static_cast<Eigen::Index>(s.k));
  fill_random_floats(x.data(), s.k, 19);
  Eigen::VectorXf y(static_cast<Eigen::Index>(s.n));
  const auto start = std::chrono::steady_clock::now();
  for (auto _ : state) {
    const RowMatrix& w = set.advance();
    bench_pool().run(kTasks, [&](std::size_t t) {
      const auto [n0, nn] = task_columns(s.n, t);
      if (nn > 0) y.segment(n0, nn).noalias() = w.middleRows(n0, nn) * x;
    });
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  const double seconds = seconds_since(start);
  set_counters(
      state,
      Work{static_cast<double>(s.n * s.k * sizeof(float)), 2.0 * static_cast<double>(s.n * s.k)},
      seconds);
}

void bm_eigen_gemm(benchmark::State& state, Shape s, std::size_t m) {
  const RowMatrix& w = f32_set(s).items[0];
  RowMatrix x(static_cast<Eigen::Index>(m), static_cast<Eigen::Index>(s.k));
  fill_random_floats(x.data(), m * s.k, 23);
  RowMatrix y(static_cast<Eigen::Index>(m), static_cast<Eigen::Index>(s.n));
  const auto start = std::chrono::steady_clock::now();
  for (auto _ : state) {
    bench_pool().run(kTasks, [&](std::size_t t) {
      const auto [n0, nn] = task_columns(s.n, t);
      if (nn > 0) y.middleCols(n0, nn).noalias() = x * w.middleRows(n0, nn).transpose();
    });
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  const double seconds = seconds_since(start);
  set_counters(state,
               Work{static_cast<double>(s.n * s.k * sizeof(float)),
                    2.0 * static_cast<double>(m * s.n * s.k)},
               seconds);
}

}  // namespace

void register_eigen_benchmarks(Shape s) {
  const std::string shape = shape_name(s);
  add_benchmark("eigen/gemv/" + shape + "/m1/dram",
                [=](benchmark::State& st) { bm_eigen_gemv(st, s); });
  add_benchmark("eigen/gemm/" + shape + "/m128",
                [=](benchmark::State& st) { bm_eigen_gemm(st, s, 128); });
}

}  // namespace lpu::bench
