// Our int8 matmul (kernels/gemm/matmul_s8.h) on packed 16c4 weights:
// gemv/ for M <= 8 (the decode kernels), gemm/ for M > 8 (prefill tiles).

#include <cstddef>
#include <string>
#include <vector>

#include "bench/kernels/bench_util.h"
#include "bench/kernels/register.h"
#include "kernels/gemm/matmul_s8.h"
#include "kernels/pack/packed_weights.h"
#include "kernels/quantize/quantize.h"
#include "kernels/quantize/quantized_rows.h"

namespace lpu::bench {
namespace {

// The packed weights of one shape and G: kDramBytes of copies of one
// random matrix (values in [-127, 127], scales near 0.01).
CycledSet<kernels::PackedWeights>& packed_set(Shape s, std::size_t g) {
  const std::string key = "packed/" + shape_name(s) + "/g" + std::to_string(g);
  return working_set<CycledSet<kernels::PackedWeights>>(key, [s, g] {
    kernels::QuantizedRows w(s.n, s.k, g);
    for (std::size_t r = 0; r < s.n; ++r) {
      std::int8_t* row = w.row(r);
      fill_random_bytes(reinterpret_cast<std::uint8_t*>(row), s.k, 1000 + r);
      for (std::size_t i = 0; i < s.k; ++i) row[i] = row[i] == -128 ? -127 : row[i];
      float* scales = w.scales(r);
      for (std::size_t j = 0; j < w.groups(); ++j)
        scales[j] = 0.01f + 1e-5f * static_cast<float>(j);
    }
    w.update_sums();
    CycledSet<kernels::PackedWeights> set;
    set.items.push_back(kernels::pack_s8_16c4(w));
    const std::size_t copies = dram_copies(set.items[0].size_bytes());
    for (std::size_t c = 1; c < copies; ++c) set.items.push_back(kernels::pack_s8_16c4(w));
    return set;
  });
}

// Activations as the forward pass makes them: fp32 rows through the
// dispatched quantiser (outside the timed loop).
kernels::QuantizedRows make_activations(std::size_t m, std::size_t k, std::size_t g) {
  std::vector<float> x(m * k);
  fill_random_floats(x.data(), x.size(), 7);
  kernels::QuantizedRows q(m, k, g);
  kernels::quantize_rows(x.data(), k, q);
  return q;
}

void bm_matmul_s8(benchmark::State& state, Shape s, std::size_t m, std::size_t g, bool dram) {
  CycledSet<kernels::PackedWeights>& set = packed_set(s, g);
  const kernels::QuantizedRows x = make_activations(m, s.k, g);
  std::vector<float> y(m * s.n);
  kernels::MatmulOptions options;
  options.pool = &bench_pool();
  const auto start = std::chrono::steady_clock::now();
  for (auto _ : state) {
    const kernels::PackedWeights& w = dram ? set.advance() : set.items[0];
    kernels::matmul_s8(w, x, y.data(), options);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  const double seconds = seconds_since(start);
  const Work work{static_cast<double>(set.items[0].size_bytes()),
                  2.0 * static_cast<double>(m * s.n * s.k)};
  set_counters(state, work, seconds);
}

}  // namespace

void register_lpu_benchmarks(Shape s) {
  // G = 256 is the CPU default (lib/quant/quant_config.h); G = 32 is
  // Q8_0's block, kept for fidelity comparisons.
  for (const std::size_t g : {std::size_t{256}, std::size_t{32}}) {
    const std::string gs = "/g" + std::to_string(g);
    const auto add = [&](std::size_t m, bool dram) {
      const std::string prefix =
          m <= static_cast<std::size_t>(kernels::kMaxTileRows) ? "gemv/" : "gemm/";
      const std::string name =
          prefix + shape_name(s) + "/m" + std::to_string(m) + gs + (dram ? "/dram" : "");
      add_benchmark(name, [=](benchmark::State& st) { bm_matmul_s8(st, s, m, g, dram); });
    };
    add(1, true);
    add(4, true);
    add(16, true);
    add(1, false);
    add(128, false);
    add(512, false);
  }
}

}  // namespace lpu::bench
