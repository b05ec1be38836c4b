#pragma once
// What every kernel benchmark of lpu_bench_kernels shares: the thread
// count, the matrix shapes, the working sets (kept one at a time), the
// counters and the naming of benchmarks.

#include <benchmark/benchmark.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "kernels/dispatch/thread_pool.h"
#include "kernels/pack/aligned_buffer.h"

namespace lpu::bench {

/// Threads every benchmark and both probes use (the cores of the machine
/// the targets are set for).
inline constexpr int kThreads = 2;

/// Bytes of weights a `/dram` benchmark cycles through: as a decode step
/// reads every layer's matrices once, far beyond the caches (the shared
/// L3 of the reference machine already reads at DRAM speed at 128 MiB).
inline constexpr std::size_t kDramBytes = std::size_t{1} << 30;

/// The pool of kThreads workers the int8 kernels and the baselines run on.
kernels::ThreadPool& bench_pool();

/// A weight matrix W[n][k]: n output channels, k inputs.
struct Shape {
  std::size_t n;
  std::size_t k;
};

/// Llama-3-8B (4096, 14336) and TinyLlama-1.1B (2048, 5632) projections:
/// attention (square), FFN up/gate (n = ffn) and FFN down (k = ffn).
std::vector<Shape> llama_shapes();

/// "NxK", e.g. "14336x4096".
std::string shape_name(Shape s);

/// Copies of a matrix of `bytes_each` needed to reach kDramBytes.
std::size_t dram_copies(std::size_t bytes_each);

/// What one call of a benchmarked routine does: the weight bytes it
/// reads (as stored by that routine: packed int8 with scales, plain int8
/// or fp32) and its arithmetic, 2 * m * n * k ops.
struct Work {
  double weight_bytes;
  double ops;
};

/// Sets the counters GBps (weight bytes per second / 1e9), GOPs (ops per
/// second / 1e9) and roofline: GOPs divided by the roofline bound
/// min(VNNI peak, read bandwidth x ops per weight byte), with both probes
/// as calibrated at start. A GEMV is bandwidth bound there (roofline =
/// GBps / read bandwidth), a large GEMM compute bound (GOPs / VNNI peak).
/// `seconds` is the wall time of state.iterations() calls.
void set_counters(benchmark::State& state, const Work& work, double seconds);

/// Registers a benchmark timed in wall-clock time (the work runs on
/// several threads). Google Benchmark appends "/real_time" to the name.
template <typename Fn>
benchmark::internal::Benchmark* add_benchmark(const std::string& name, Fn&& fn) {
  return benchmark::RegisterBenchmark(name.c_str(), std::forward<Fn>(fn))
      ->UseRealTime()
      ->Unit(benchmark::kMicrosecond);
}

/// Wall-clock seconds since `start`.
inline double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

/// Fills `bytes` bytes with pseudo-random values from `seed` (splitmix64).
void fill_random_bytes(std::uint8_t* p, std::size_t bytes, std::uint64_t seed);

/// Fills `count` floats uniformly in [-1, 1) from `seed`.
void fill_random_floats(float* p, std::size_t count, std::uint64_t seed);

/// Several distinct copies of one matrix in some storage, visited in turn
/// by `/dram` benchmarks; `next` persists between runs of a benchmark, so
/// a run never starts on a matrix the previous one just read.
template <typename T>
struct CycledSet {
  std::vector<T> items;
  std::size_t next = 0;

  const T& advance() {
    const T& item = items[next];
    next = next + 1 == items.size() ? 0 : next + 1;
    return item;
  }
};

/// Int8 matrices stored N x K, row after row (the oneDNN GEMV layout and
/// the naive loop's), kDramBytes of them.
CycledSet<kernels::AlignedBuffer>& s8_nk_set(Shape s);

/// Working sets kept alive at once: one shape's packed weights at G = 256
/// and G = 32, its int8 N x K and fp32 copies, and the read-probe buffer
/// (about 6 GiB), so that `--benchmark_enable_random_interleaving` can
/// alternate between one shape's benchmarks without rebuilding them.
inline constexpr std::size_t kWorkingSetSlots = 5;

namespace detail {
struct WorkingSetSlot {
  std::string key;
  std::shared_ptr<void> data;
  std::uint64_t last_use = 0;
};
/// The slot holding `key`, or the least recently used one (emptied).
WorkingSetSlot& working_set_slot(const std::string& key);
}  // namespace detail

/// The working set named `key`: a T constructed from `build()`'s result
/// the first time, then kept while it is among the kWorkingSetSlots most
/// recently used (the machine is shared, and the sets are up to
/// kDramBytes each, fp32 4x). Benchmarks are registered shape by shape,
/// so a run in registration order builds each set once.
template <typename T, typename Build>
T& working_set(const std::string& key, Build&& build) {
  detail::WorkingSetSlot& slot = detail::working_set_slot(key);
  if (slot.data == nullptr) {
    slot.data = std::make_shared<T>(build());
    slot.key = key;
  }
  return *static_cast<T*>(slot.data.get());
}

}  // namespace lpu::bench
